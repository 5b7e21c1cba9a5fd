"""The data sets a job may train on."""

from training.datasets import DATASETS, DatasetInfo


def list_all() -> list[DatasetInfo]:
    return list(DATASETS.values())
