"""The built-in data sets: metadata (no TensorFlow, no heavy imports) and a verified loader."""

from __future__ import annotations

import hashlib
import os
import string
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import Unavailable


class DatasetError(Unavailable):
    """A data file is missing, altered or unreadable; the message says which and how to fix it."""

    code = "dataset_unavailable"


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    title: str
    filename: str
    sha256: str
    input_shape: tuple[int, int, int]
    class_names: tuple[str, ...]
    train_size: int
    test_size: int
    # Original label -> contiguous class index (ASL skips J=9 and Z=25).
    label_map: tuple[int, ...] | None = None
    source: str = ""
    # "dark": light strokes on a black background (MNIST), so an uploaded image with a light
    # background is inverted for prediction; "any": photos, used as they are.
    background: str = "any"

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


_ASL_LABELS = tuple(i for i in range(25) if i != 9)  # A..Y without J (9); Z (25) never occurs

DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo(
        name="mnist",
        title="MNIST handwritten digits",
        filename="mnist.npz",
        sha256="06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64",
        input_shape=(28, 28, 1),
        class_names=tuple(str(d) for d in range(10)),
        train_size=60_000,
        test_size=10_000,
        source="LeCun, Cortes and Burges, THE MNIST DATABASE of handwritten digits",
        background="dark",
    ),
    "asl": DatasetInfo(
        name="asl",
        title="Sign Language MNIST (American Sign Language letters A-Y without J and Z)",
        filename="sign_mnist.npz",
        sha256="5dcce3bba793df310fefe271c2ca29a64e077a08f0443b4a215cf21ab169e025",
        input_shape=(28, 28, 1),
        class_names=tuple(string.ascii_uppercase[i] for i in _ASL_LABELS),
        train_size=27_455,
        test_size=7_172,
        label_map=_ASL_LABELS,
        source="Kaggle datamunge/sign-language-mnist (CC0)",
    ),
}


@dataclass(frozen=True)
class Splits:
    """Pixels as float32 in [0, 1] with a channel axis; labels as contiguous class indices."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def get_info(name: str) -> DatasetInfo:
    try:
        return DATASETS[name]
    except KeyError:
        known = ", ".join(sorted(DATASETS))
        raise DatasetError(f"unknown data set {name!r}; known data sets: {known}") from None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(info: DatasetInfo, data_dir: Path) -> Path:
    """Return the data file's path once its checksum matches; otherwise say what is wrong."""
    path = data_dir / info.filename
    if not path.is_file():
        raise DatasetError(
            f"data set {info.name!r}: {path} is missing. The file ships with Descent under data/; "
            f"restore it from the repository (git checkout -- data/{info.filename}) "
            "or point DESCENT_DATA_DIR at a folder that holds it."
        )
    actual = sha256_of(path)
    if actual != info.sha256:
        raise DatasetError(
            f"data set {info.name!r}: {path} has sha256 {actual}, expected {info.sha256}. "
            "The file is altered or truncated; restore it with "
            f"git checkout -- data/{info.filename}."
        )
    return path


def remap_labels(info: DatasetInfo, labels: np.ndarray) -> np.ndarray:
    """Map the file's original labels to contiguous class indices 0..num_classes-1."""
    if info.label_map is None:
        return labels.astype(np.int64)
    lookup = np.full(max(info.label_map) + 1, -1, dtype=np.int64)
    lookup[list(info.label_map)] = np.arange(len(info.label_map))
    mapped = lookup[labels]
    if (mapped < 0).any():
        raise DatasetError(f"data set {info.name!r} holds labels outside {info.label_map}")
    return mapped


def load(
    name: str, data_dir: Path, limit: int | None = None, cache_dir: Path | None = None
) -> Splits:
    """Load a built-in data set after verifying its checksum.

    ``limit`` keeps the first N training rows; the test split is always whole. With
    ``cache_dir`` the scaled arrays are kept there as plain ``.npy`` files, keyed by the data
    file's checksum, and memory-mapped by every later job: a worker runs each job in a fresh
    process, and decompressing and scaling MNIST costs ~1 s a job where mapping costs ~10 ms.
    A job on a small slice (under half the rows) reads and scales its slice alone, as cheap,
    and writes nothing.
    """
    info = get_info(name)
    path = verify(info, data_dir)
    if cache_dir is None or (limit is not None and limit < info.train_size // 2):
        return _read(info, path, limit)
    splits = _cached(info, path, cache_dir)
    return Splits(splits.x_train[:limit], splits.y_train[:limit], splits.x_test, splits.y_test)


_FIELDS = ("x_train", "y_train", "x_test", "y_test")


def _read(info: DatasetInfo, path: Path, limit: int | None = None) -> Splits:
    from training.preprocessing import scale_pixels

    with np.load(path, allow_pickle=False) as f:
        x_train, y_train = f["x_train"][:limit], f["y_train"][:limit]
        x_test, y_test = f["x_test"], f["y_test"]
    return Splits(
        x_train=scale_pixels(x_train, info.input_shape),
        y_train=remap_labels(info, y_train),
        x_test=scale_pixels(x_test, info.input_shape),
        y_test=remap_labels(info, y_test),
    )


def _cached(info: DatasetInfo, path: Path, cache_dir: Path) -> Splits:
    """The scaled splits from ``cache_dir``, written there first if missing. Files are written
    under a temporary name and renamed, so a job never maps a half-written one."""
    folder = cache_dir / f"{info.name}-{info.sha256[:16]}"
    files = {field: folder / f"{field}.npy" for field in _FIELDS}
    if not all(f.is_file() for f in files.values()):
        splits = _read(info, path)
        folder.mkdir(parents=True, exist_ok=True)
        for field, target in files.items():
            partial = target.with_name(f".{target.name}.{os.getpid()}")
            with partial.open("wb") as out:
                np.save(out, getattr(splits, field), allow_pickle=False)
            os.replace(partial, target)
        return splits
    # Read-only maps: a job that changed them would change every later job's data.
    arrays = {
        field: np.asarray(np.load(f, mmap_mode="r", allow_pickle=False))
        for field, f in files.items()
    }
    return Splits(**arrays)
