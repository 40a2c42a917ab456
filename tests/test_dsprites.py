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


@pytest.fixture(scope="module")
def dsprites():
    return DSprites()


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
