"""dSprites (procedural and from the official file's format), Shapes3D files, weak pairs."""

import numpy as np
import pytest

from lib.data import (
    DataError,
    DSprites,
    DSpritesFile,
    procedural_agreement,
    sample_pair_factors,
    sample_pairs,
)
from lib.data.dsprites import FACTOR_SIZES, flat_index
from lib.errors import ParameterError


def test_factor_grid_is_the_official_one(dsprites):
    assert dsprites.factor_sizes == (3, 6, 40, 32, 32)
    assert dsprites.factor_names == ("shape", "scale", "orientation", "posX", "posY")
    assert len(dsprites) == 737_280
    values = dsprites.values(np.array([[2, 5, 39, 31, 0]]))
    assert values["scale"][0] == 1.0 and values["orientation"][0] == pytest.approx(
        2 * np.pi
    )
    assert flat_index(
        np.array([[0, 0, 0, 0, 1], [1, 0, 0, 0, 0]]), FACTOR_SIZES
    ).tolist() == [
        1,
        245_760,
    ]


def test_render_is_binary_deterministic_and_every_factor_shows(dsprites):
    rng = np.random.default_rng(0)
    factors = dsprites.sample_factors(64, rng)
    assert factors.dtype == np.int64 and factors.shape == (64, 5)
    assert (factors >= 0).all() and (factors < np.array(FACTOR_SIZES)).all()
    images = dsprites.render(factors)
    assert images.shape == (64, 1, 64, 64) and images.dtype == np.float32
    assert set(np.unique(images)) <= {0.0, 1.0}
    assert (images.sum((1, 2, 3)) > 20).all()  # every shape is visible
    np.testing.assert_array_equal(images, dsprites.render(factors))
    # no pixel of any shape on the image border: shapes stay on the canvas
    extreme = np.array([[s, 5, o, p, q] for s in range(3) for o in (5, 25)
                        for p in (0, 31) for q in (0, 31)])  # fmt: skip
    border = dsprites.render(extreme)[:, 0]
    assert border[:, 0].sum() == border[:, -1].sum() == 0
    assert border[:, :, 0].sum() == border[:, :, -1].sum() == 0
    base = np.array([[2, 3, 7, 10, 20]])
    for j, size in enumerate(
        FACTOR_SIZES
    ):  # changing any single factor changes the image
        moved = base.copy()
        moved[0, j] = (base[0, j] + 1) % size
        assert (dsprites.render(moved) != dsprites.render(base)).any(), j


def test_orientation_ends_coincide_and_scale_grows_area(dsprites):
    first = dsprites.render(np.array([[2, 5, 0, 16, 16]]))
    last = dsprites.render(np.array([[2, 5, 39, 16, 16]]))
    assert (first != last).mean() < 0.002  # 0 and 2 pi: the same image, up to rounding
    areas = dsprites.render(np.array([[0, s, 0, 16, 16] for s in range(6)])).sum(
        (1, 2, 3)
    )
    assert (np.diff(areas) > 0).all()


def test_bad_factors_are_clear_errors(dsprites):
    with pytest.raises(ValueError, match="out of range"):
        dsprites.render(np.array([[3, 0, 0, 0, 0]]))
    with pytest.raises(ValueError, match="integer"):
        dsprites.render(np.zeros((1, 5)))
    with pytest.raises(ValueError, match=r"\(n, 5\)"):
        dsprites.render(np.zeros((1, 4), dtype=int))


def _tiny_official_file(path, dsprites, sizes=(3, 2, 2, 2, 2)):
    grid = np.stack(np.meshgrid(*[np.arange(s) for s in sizes], indexing="ij"), -1)
    classes = grid.reshape(-1, 5)
    images = dsprites.render(classes)[:, 0].astype(np.uint8)
    latents = np.concatenate([np.zeros((len(classes), 1), dtype=np.int64), classes], 1)
    np.savez(path, imgs=images, latents_classes=latents, latents_values=latents * 1.0)
    return classes, images


def test_official_file_format_is_read_and_checked(tmp_path, dsprites):
    path = tmp_path / "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
    classes, images = _tiny_official_file(path, dsprites)
    data = DSpritesFile(
        tmp_path, verify=False
    )  # a folder holding the official file name
    assert data.factor_sizes == (3, 2, 2, 2, 2) and len(data) == len(classes)
    rng = np.random.default_rng(1)
    factors = data.sample_factors(10, rng)
    np.testing.assert_array_equal(data.render(factors), dsprites.render(factors))
    with pytest.raises(DataError, match="md5"):
        DSpritesFile(path)  # not the official bytes
    with pytest.raises(DataError, match="not found"):
        DSpritesFile(tmp_path / "missing.npz")
    shuffled = tmp_path / "shuffled.npz"
    latents = np.concatenate([np.zeros((len(classes), 1), int), classes[::-1]], 1)
    np.savez(shuffled, imgs=images, latents_classes=latents)
    with pytest.raises(DataError, match="row-major"):
        DSpritesFile(shuffled, verify=False)
    broken = tmp_path / "broken.npz"
    broken.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataError, match="readable"):
        DSpritesFile(broken, verify=False)


def test_agreement_with_itself_is_perfect(tmp_path, dsprites):
    path = tmp_path / "d.npz"
    _tiny_official_file(path, dsprites, sizes=FACTOR_SIZES[:1] + (6, 4, 4, 4))
    report = procedural_agreement(DSpritesFile(path, verify=False), dsprites, n=50)
    assert report["median_iou"] == 1.0 and report["median_iou_heart"] == 1.0


def test_pairs_change_one_or_k_factors_as_locatello_et_al():
    sizes = (3, 6, 40, 32, 32)
    rng = np.random.default_rng(0)
    n = 40_000
    z1, z2 = sample_pair_factors(sizes, n, rng, k=3)
    changed = (z1 != z2).sum(1)
    assert changed.max() <= 3
    # 1 or 3 factors are redrawn, half the time each; a redrawn factor keeps its value with
    # probability 1/size, so "none changed" happens (about half the time the single redrawn
    # factor is kept: 0.5 * mean(1/size)) and "3 changed" about a third of the time
    keep = np.mean([1 / s for s in sizes])
    assert (changed == 0).mean() == pytest.approx(0.5 * keep, abs=0.01)
    assert 0.3 < (changed == 3).mean() < 0.45  # 0.5 * P(no redrawn factor keeps)
    # a redrawn factor is uniform over all its values
    moved = z2[:, 2][z1[:, 2] != z2[:, 2]]
    counts = np.bincount(moved, minlength=40)
    assert counts.min() > 0.7 * counts.mean()
    z1_unknown, z2_unknown = sample_pair_factors(sizes, n, np.random.default_rng(1))
    changed_unknown = (z1_unknown != z2_unknown).sum(1)
    assert changed_unknown.max() == 4  # k is uniform in 1..n_factors - 1, never 5
    with pytest.raises(ValueError, match="k must be"):
        sample_pair_factors(sizes, 4, rng, k=6)
    a = sample_pair_factors(sizes, 5, np.random.default_rng(3))
    b = sample_pair_factors(sizes, 5, np.random.default_rng(3))
    np.testing.assert_array_equal(a[1], b[1])


def test_sample_pairs_renders_both_images(dsprites):
    pairs = sample_pairs(dsprites, 8, np.random.default_rng(0), k=1)
    assert pairs.x1.shape == pairs.x2.shape == (8, 1, 64, 64)
    np.testing.assert_array_equal(pairs.x2, dsprites.render(pairs.factors2))
    assert ((pairs.factors1 != pairs.factors2).sum(1) <= 1).all()


@pytest.mark.parametrize("k", [1.7, True, 0, 6])
def test_sample_pair_factors_refuses_a_k_that_is_not_a_factor_count(k):
    from lib.data.dsprites import sample_pair_factors

    with pytest.raises(ValueError, match="k must be"):
        sample_pair_factors((3, 6, 40, 32, 32), 4, np.random.default_rng(0), k=k)


# --------------------------------------------------------------------------------------------
# bad input at the door (issue 27)
# --------------------------------------------------------------------------------------------
TINY = (3, 2, 2, 2, 2)


def _tiny_arrays(sizes=TINY):
    grid = np.stack(np.meshgrid(*[np.arange(s) for s in sizes], indexing="ij"), -1)
    classes = grid.reshape(-1, 5)
    latents = np.concatenate([np.zeros((len(classes), 1), np.int64), classes], 1)
    images = np.zeros((len(classes), 64, 64), np.uint8)
    images[:, 20:40, 20:40] = 1
    return images, latents


def _corrupt_compressed(path):
    images, latents = _tiny_arrays()
    noise = np.random.default_rng(0).integers(0, 2, images.shape, dtype=np.uint8)
    np.savez_compressed(path, imgs=noise, latents_classes=latents)
    raw = bytearray(path.read_bytes())
    for i in range(300, 3000, 7):  # inside imgs' deflate stream, past the zip header
        raw[i] ^= 0x5A
    path.write_bytes(bytes(raw))


_IMAGES, _LATENTS = _tiny_arrays()
BAD_DSPRITES_FILES = {
    "pixels 255": (
        dict(imgs=_IMAGES * 255, latents_classes=_LATENTS),
        ["255", "{0, 1}"],
    ),
    "32x32": (
        dict(imgs=_IMAGES[:, :32, :32], latents_classes=_LATENTS),
        ["(48, 32, 32)"],
    ),
    "float imgs": (dict(imgs=_IMAGES * 1.0, latents_classes=_LATENTS), ["float64"]),
    "float classes": (dict(imgs=_IMAGES, latents_classes=_LATENTS * 1.0), ["float64"]),
    "1-D classes": (dict(imgs=_IMAGES, latents_classes=_LATENTS[:, 1]), ["(48,)"]),
    "5 columns": (dict(imgs=_IMAGES, latents_classes=_LATENTS[:, 1:]), ["(48, 5)"]),
    "zero rows": (dict(imgs=_IMAGES[:0], latents_classes=_LATENTS[:0]), ["no images"]),
    "negative": (dict(imgs=_IMAGES, latents_classes=_LATENTS - 1), ["-1"]),
    "colour": (dict(imgs=_IMAGES, latents_classes=_LATENTS + 1), ["colour"]),
    "rows": (dict(imgs=_IMAGES[:-1], latents_classes=_LATENTS), ["47", "48"]),
    "no imgs": (dict(latents_classes=_LATENTS), ["imgs"]),
}


@pytest.mark.parametrize("case", sorted(BAD_DSPRITES_FILES))
def test_dsprites_file_refuses_bad_contents_naming_the_file(tmp_path, case):
    arrays, words = BAD_DSPRITES_FILES[case]
    path = tmp_path / "d.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError) as info:
        DSpritesFile(path, verify=False)
    for word in [str(path), *words]:
        assert word in str(info.value)


def test_dsprites_file_corrupt_or_not_an_npz_is_a_data_error(tmp_path):
    path = tmp_path / "z.npz"
    _corrupt_compressed(path)  # a raw zlib.error before
    with pytest.raises(DataError, match="readable"):
        DSpritesFile(path, verify=False)
    npy = tmp_path / "x.npy"
    np.save(npy, np.zeros(3))  # a raw TypeError before
    with pytest.raises(DataError, match="npz"):
        DSpritesFile(npy, verify=False)
    with pytest.raises(ParameterError, match="verify"):
        DSpritesFile(npy, verify="yes")
    with pytest.raises(ParameterError, match="path"):
        DSpritesFile(None)


def test_dsprites_file_renders_zeros_and_ones(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, imgs=_IMAGES, latents_classes=_LATENTS)
    data = DSpritesFile(path, verify=False)
    out = data.render(_LATENTS[:, 1:])
    assert out.shape == (48, 1, 64, 64) and set(np.unique(out)) == {0.0, 1.0}


def test_out_of_range_factor_names_the_factor_its_range_and_the_value(dsprites):
    with pytest.raises(ParameterError) as info:
        dsprites.render(np.array([[0, 0, 40, 0, 0]]))
    for word in ["orientation", "0..39", "40"]:
        assert word in str(info.value)
    with pytest.raises(ParameterError, match="bool"):
        dsprites.render(np.zeros((1, 5), dtype=bool))
    with pytest.raises(ParameterError, match="factors"):
        dsprites.render([[0, 0], [0]])  # ragged: a raw NumPy error before
    with pytest.raises(ParameterError, match="factors"):
        flat_index(np.array([[0, 0, 0, 0, 32]]), FACTOR_SIZES)  # silently 32 before


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(n=-1), "n"),
        (dict(n=2.5), "n"),
        (dict(n=True), "n"),
        (dict(sizes=()), "sizes"),
        (dict(sizes=(3, 0)), "sizes"),
        (dict(sizes=(3, 2.5)), "sizes"),
        (dict(sizes=5), "sizes"),
        (dict(rng=0), "rng"),
        (dict(sizes=(4,), k=None), "k"),  # no k in 1..0: a raw NumPy error before
    ],
)
def test_sample_pair_factors_checks_every_argument(kwargs, word):
    args = dict(sizes=(3, 6, 40), n=4, rng=np.random.default_rng(0), k=1)
    args.update(kwargs)
    with pytest.raises(ParameterError, match=rf"\b{word}\b"):
        sample_pair_factors(**args)


def test_sample_pair_factors_with_one_factor_and_zero_pairs():
    z1, z2 = sample_pair_factors((4,), 10, np.random.default_rng(0), k=1)
    assert z1.shape == z2.shape == (10, 1)
    z1, z2 = sample_pair_factors((3, 4), 0, np.random.default_rng(0))
    assert z1.shape == z2.shape == (0, 2) and z1.dtype == np.int64


def test_procedural_and_sampling_arguments_are_checked(dsprites, tmp_path):
    from lib.data.dsprites import Geometry

    rng = np.random.default_rng(0)
    with pytest.raises(ParameterError, match="n"):
        dsprites.sample_factors(-3, rng)
    with pytest.raises(ParameterError, match="rng"):
        dsprites.sample_factors(3, 7)
    with pytest.raises(ParameterError, match="chunk"):
        dsprites.render(np.zeros((2, 5), int), chunk=0)
    with pytest.raises(ParameterError, match="dataset"):
        sample_pairs(object(), 2, rng)
    for field in ["image_size", "half_size", "margin", "ellipse_ratio"]:
        with pytest.raises(ParameterError, match=field):
            Geometry(**{field: -1})
    with pytest.raises(ParameterError, match="geometry"):
        DSprites(geometry="small")
    path = tmp_path / "d.npz"
    np.savez(path, imgs=_IMAGES, latents_classes=_LATENTS)
    official = DSpritesFile(path, verify=False)
    with pytest.raises(ParameterError, match="n"):
        procedural_agreement(official, dsprites, n=0)  # NaN medians before
    with pytest.raises(ParameterError, match="seed"):
        procedural_agreement(official, dsprites, seed=-1)
    with pytest.raises(ParameterError, match="official"):
        procedural_agreement(dsprites.render, dsprites)
