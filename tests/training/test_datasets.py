"""The shipped data files: verified on load, with shapes, scaling and class names as promised."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from core.settings import PROJECT_ROOT
from training import builtin_datasets

DATA = PROJECT_ROOT / "data"


def test_mnist_loads_scaled_to_unit_range_with_a_channel_axis():
    splits = builtin_datasets.load("mnist", DATA, limit=500)
    assert splits.x_train.shape == (500, 28, 28, 1)
    assert splits.x_test.shape == (10_000, 28, 28, 1)
    assert splits.x_train.dtype == np.float32
    assert splits.x_train.min() == 0.0 and splits.x_train.max() == 1.0
    assert set(np.unique(splits.y_test)) == set(range(10))


def test_asl_labels_are_remapped_to_24_contiguous_classes():
    info = builtin_datasets.get_info("asl")
    splits = builtin_datasets.load("asl", DATA)
    assert len(splits.x_train) == info.train_size == 27_455
    assert len(splits.x_test) == info.test_size == 7_172
    assert sorted(np.unique(splits.y_train)) == list(range(24))
    assert "J" not in info.class_names and "Z" not in info.class_names
    assert info.class_names[9] == "K"  # original label 10 is class index 9
    with np.load(DATA / "sign_mnist.npz") as raw:
        first = int(raw["y_train"][0])
    assert info.class_names[splits.y_train[0]] == chr(ord("A") + first)


def test_missing_file_says_where_it_should_be_and_how_to_restore_it(tmp_path: Path):
    with pytest.raises(
        builtin_datasets.DatasetError, match="missing.*git checkout -- data/mnist.npz"
    ):
        builtin_datasets.load("mnist", tmp_path)


def test_altered_file_is_refused_with_both_checksums(tmp_path: Path):
    copy = tmp_path / "mnist.npz"
    shutil.copyfile(DATA / "mnist.npz", copy)
    with copy.open("r+b") as f:
        f.seek(1000)
        byte = f.read(1)
        f.seek(1000)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(builtin_datasets.DatasetError, match="expected 06af5dfe") as caught:
        builtin_datasets.load("mnist", tmp_path)
    assert "altered" in str(caught.value)


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(builtin_datasets.DatasetError, match="asl, mnist"):
        builtin_datasets.get_info("cifar10")
