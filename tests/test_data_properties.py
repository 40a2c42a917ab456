"""Properties of the data loaders' door checks and of the pair sampler (hypothesis).

For any valid factors a loader returns images of the promised shape, dtype and range (and the
image the file holds); for any factor out of range a :class:`ParameterError` naming the factor,
its range and the value; for any corruption of a file a :class:`DataError` (or, where the
corruption is harmless, the same images); ``sample_pair_factors`` for any valid sizes, n and k
gives in-range pairs that differ in at most the documented number of factors.
"""

import io
import zipfile

import numpy as np
import pytest
from hostile_data import (
    NORB_CHUNK,
    TINY_DSPRITES,
    TINY_SHAPES3D,
    cars,
    dsprites_arrays,
    dsprites_file,
    fresh,
    norb,
    norb_arrays,
    shapes3d,
    write_dsprites,
    write_norb,
    write_norb_matrix,
    write_shapes3d,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.data import DSpritesFile, Shapes3DFile, SmallNORBFiles, sample_pair_factors
from lib.data.dsprites import check_factors, flat_index
from lib.data.factor_files import read_norb_matrix
from lib.errors import DataError, ParameterError

FAST = settings(
    max_examples=60,
    deadline=None,
    database=None,  # no .hypothesis folder in the checkout
    suppress_health_check=[HealthCheck.too_slow],
)

LOADERS = {
    "dsprites_file": dsprites_file,
    "shapes3d": shapes3d,
    "cars3d": cars,
    "small_norb": norb,
}
CHANNELS = {"dsprites_file": 1, "shapes3d": 3, "cars3d": 3, "small_norb": 1}


@st.composite
def valid_factors(draw, sizes, max_rows=12):
    n = draw(st.integers(0, max_rows))
    columns = [
        draw(st.lists(st.integers(0, s - 1), min_size=n, max_size=n)) for s in sizes
    ]
    return np.array(columns, dtype=np.int64).reshape(len(sizes), n).T


@pytest.mark.parametrize("loader", sorted(LOADERS))
@FAST
@given(data=st.data())
def test_any_valid_factors_give_images_of_the_promised_shape_and_range(loader, data):
    dataset = LOADERS[loader]()
    factors = data.draw(valid_factors(dataset.factor_sizes))
    dtype = data.draw(st.sampled_from([np.int64, np.int32, np.uint8, np.int16]))
    images = dataset.render(factors.astype(dtype))
    assert images.shape == (len(factors), CHANNELS[loader], 64, 64)
    assert images.dtype == np.float32
    assert ((images >= 0) & (images <= 1)).all()
    if loader == "dsprites_file":
        assert set(np.unique(images)) <= {0.0, 1.0}
        expected = dsprites_arrays()["imgs"][flat_index(factors, TINY_DSPRITES)]
        np.testing.assert_array_equal(images[:, 0], expected)
    if loader == "shapes3d":  # the writer's pixel is 10 * flat index
        expected = 10 * flat_index(factors, TINY_SHAPES3D) / 255
        np.testing.assert_allclose(images[:, 0, 5, 5], expected, rtol=1e-6)
    if loader == "small_norb":  # the writer's picture is category * 40 + elevation
        expected = (factors[:, 0] * 40 + factors[:, 1]) / 255
        np.testing.assert_allclose(images[:, 0, 30, 30], expected, atol=1e-6)
    if loader == "cars3d":  # the writer's red is azimuth * 4 + elevation
        expected = (factors[:, 1] * 4 + factors[:, 0]) / 255
        np.testing.assert_allclose(images[:, 0, 30, 30], expected, atol=1e-6)


@pytest.mark.parametrize("loader", sorted(LOADERS))
@FAST
@given(data=st.data())
def test_any_factor_out_of_range_names_the_factor_its_range_and_the_value(loader, data):
    dataset = LOADERS[loader]()
    sizes = dataset.factor_sizes
    row = data.draw(valid_factors(sizes, max_rows=1).filter(len))[0]
    j = data.draw(st.integers(0, len(sizes) - 1))
    row[j] = data.draw(
        st.one_of(st.integers(-(2**40), -1), st.integers(sizes[j], 2**40))
    )
    with pytest.raises(ParameterError) as info:
        dataset.render(row[None])
    message = str(info.value)
    for word in (dataset.factor_names[j], f"0..{sizes[j] - 1}", str(row[j])):
        assert word in message


@FAST
@given(
    sizes=st.lists(st.integers(1, 6), min_size=1, max_size=4).map(tuple),
    data=st.data(),
)
def test_check_factors_takes_in_range_integers_and_refuses_any_float_or_bool(
    sizes, data
):
    factors = data.draw(valid_factors(sizes))
    np.testing.assert_array_equal(check_factors(factors, sizes), factors)
    assert check_factors(factors, sizes).dtype == np.int64
    for bad in (factors.astype(np.float64), factors.astype(bool)):
        with pytest.raises(ParameterError, match="factors"):
            check_factors(bad, sizes)
    with pytest.raises(ParameterError, match="factors"):
        check_factors(factors[:, :-1], sizes)


# --------------------------------------------------------------------------------------------
# the pair sampler
# --------------------------------------------------------------------------------------------
@st.composite
def pair_arguments(draw):
    sizes = tuple(draw(st.lists(st.integers(1, 50), min_size=1, max_size=7)))
    ks = [None] * (len(sizes) > 1) + list(range(1, len(sizes) + 1))
    k = draw(st.sampled_from(ks))
    n = draw(st.integers(0, 300))
    seed = draw(st.integers(0, 2**32 - 1))
    return sizes, n, k, seed


@FAST
@given(pair_arguments())
def test_pairs_are_in_range_and_differ_in_at_most_the_documented_factors(arguments):
    sizes, n, k, seed = arguments
    z1, z2 = sample_pair_factors(sizes, n, np.random.default_rng(seed), k)
    for z in (z1, z2):
        assert z.shape == (n, len(sizes)) and z.dtype == np.int64
        assert ((z >= 0) & (z < np.array(sizes))).all()
    changed = (z1 != z2).sum(1)
    most = len(sizes) - 1 if k is None else max(1, k)  # 1 or k factors are redrawn
    assert (changed <= most).all()
    again = sample_pair_factors(sizes, n, np.random.default_rng(seed), k)
    np.testing.assert_array_equal(again[0], z1)
    np.testing.assert_array_equal(again[1], z2)


@FAST
@given(
    arguments=pair_arguments(),
    bad_k=st.one_of(
        st.integers(-(2**40), 0),
        st.integers(8, 2**40),
        st.floats(allow_nan=True),
        st.booleans(),
        st.text(max_size=3),
    ),
    bad_n=st.one_of(st.integers(-(2**40), -1), st.floats(), st.booleans()),
)
def test_any_bad_k_or_n_is_a_parameter_error_naming_it(arguments, bad_k, bad_n):
    sizes, n, k, seed = arguments
    rng = np.random.default_rng(seed)
    with pytest.raises(ParameterError, match=r"\bk\b"):
        sample_pair_factors(sizes, n, rng, bad_k)
    with pytest.raises(ParameterError, match=r"\bn\b"):
        sample_pair_factors(sizes, bad_n, rng, k)


# --------------------------------------------------------------------------------------------
# corrupt files: a DataError, or (a harmless corruption) the same data, never a raw error
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def npz_bytes():
    return {
        compressed: write_dsprites(compressed=compressed).read_bytes()
        for compressed in (False, True)
    }


def _zip_headers(raw: bytes) -> list[int]:
    """Byte positions of the zip's local headers, npy headers and central directory."""
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        starts = [info.header_offset for info in archive.infolist()]
        directory = archive.start_dir
    return sorted(
        {*(i for s in starts for i in range(s, s + 200)), *range(directory, len(raw))}
    )


@settings(FAST, max_examples=200)
@given(compressed=st.booleans(), data=st.data())
def test_any_flipped_byte_of_a_dsprites_npz_is_refused_or_harmless(
    npz_bytes, compressed, data
):
    """A flipped flag, method, version or npy header byte once escaped as a raw
    NotImplementedError, RuntimeError or tokenize error; a flipped pixel fails the CRC."""
    raw = bytearray(npz_bytes[compressed])
    anywhere = st.integers(0, len(raw) - 1)
    where = data.draw(st.one_of(st.sampled_from(_zip_headers(raw)), anywhere))
    raw[where] ^= data.draw(st.integers(1, 255))
    path = fresh("flip") / "d.npz"
    path.write_bytes(bytes(raw))
    try:
        loaded = DSpritesFile(path, verify=False)
    except DataError as exc:
        assert str(path) in str(exc)
        return
    factors = np.array(np.unravel_index(np.arange(48), TINY_DSPRITES)).T
    expected = dsprites_file().render(factors)
    np.testing.assert_array_equal(loaded.render(factors), expected)


@FAST
@given(cut=st.floats(0, 1, exclude_max=True))
def test_any_truncated_dsprites_npz_is_a_data_error(npz_bytes, cut):
    raw = npz_bytes[True]
    path = fresh("cut") / "d.npz"
    path.write_bytes(raw[: int(cut * len(raw))])
    with pytest.raises(DataError):
        DSpritesFile(path, verify=False)


@FAST
@given(
    dtype=st.sampled_from([np.uint8, np.int32]),
    shape=st.lists(st.integers(0, 4), min_size=1, max_size=5).map(tuple),
    cut=st.floats(0, 1, exclude_max=True),
    seed=st.integers(0, 2**32 - 1),
)
def test_norb_matrices_round_trip_and_any_prefix_is_a_data_error(
    dtype, shape, cut, seed
):
    array = np.random.default_rng(seed).integers(0, 200, shape).astype(dtype)
    path = fresh("matrix") / "m.mat"
    write_norb_matrix(path, array)
    np.testing.assert_array_equal(read_norb_matrix(path), array)
    raw = path.read_bytes()
    path.write_bytes(raw[: int(cut * len(raw))])
    with pytest.raises(DataError):
        read_norb_matrix(path)


@pytest.fixture(scope="module")
def norb_folder():
    return write_norb()


@FAST
@given(part=st.sampled_from(["cat", "info"]), data=st.data())
def test_any_changed_byte_of_the_norb_labels_is_a_data_error(norb_folder, part, data):
    """The grid is complete, so a changed label is out of range, a duplicate or a gap."""
    array = norb_arrays()[part]
    raw = bytearray((norb_folder / f"{NORB_CHUNK}-{part}.mat").read_bytes())
    used = [*range(8 + 4 * array.ndim), *range(20, len(raw))]  # not the unused dims
    raw[data.draw(st.sampled_from(used))] ^= data.draw(st.integers(1, 255))
    folder = write_norb(fresh("norb"))
    (folder / f"{NORB_CHUNK}-{part}.mat").write_bytes(bytes(raw))
    with pytest.raises(DataError):
        SmallNORBFiles(folder, chunks=(NORB_CHUNK,))


@pytest.fixture(scope="module")
def h5_bytes():
    return write_shapes3d().read_bytes()


@FAST
@given(where=st.integers(0, 2047), mask=st.integers(1, 255))
def test_any_flipped_metadata_byte_of_a_3dshapes_file_never_escapes_raw(
    h5_bytes, where, mask
):
    """HDF5 keeps no checksum of contiguous data (``verify=True`` checks the official md5),
    so a flipped byte may load; it must then load images of the promised kind."""
    raw = bytearray(h5_bytes)
    raw[where] ^= mask
    path = fresh("flip") / "3dshapes.h5"
    path.write_bytes(bytes(raw))
    try:
        data = Shapes3DFile(path, factor_sizes=TINY_SHAPES3D)
        images = data.render(np.array(np.unravel_index(np.arange(12), TINY_SHAPES3D)).T)
    except DataError as exc:
        assert str(path) in str(exc)
        return
    assert images.shape == (12, 3, 64, 64) and images.dtype == np.float32
    assert ((images >= 0) & (images <= 1)).all()
