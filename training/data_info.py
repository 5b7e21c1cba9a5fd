"""What a spec is checked against: any data set's task, shapes and classes. numpy-free.

Built-in data sets come from ``training.builtin_datasets``; user data sets live in the database and
the service layer describes them with the same class, so checks never care which it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from training.builtin_datasets import DATASETS

DataTask = Literal["classification", "regression"]


@dataclass(frozen=True)
class DataInfo:
    name: str
    task: DataTask
    input_shape: tuple[int, ...]
    train_size: int
    test_size: int = 0  # 0: the data set has no test split
    class_names: tuple[str, ...] = ()
    target_size: int = 0  # regression: numbers per row
    scaling: Literal["divide_by_255", "none"] = "none"
    builtin: bool = False
    id: str | None = None  # a user data set's id

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def is_image(self) -> bool:
        return len(self.input_shape) == 3


def builtin_info(name: str) -> DataInfo | None:
    info = DATASETS.get(name)
    if info is None:
        return None
    return DataInfo(
        name=info.name,
        task="classification",
        input_shape=info.input_shape,
        train_size=info.train_size,
        test_size=info.test_size,
        class_names=info.class_names,
        scaling="divide_by_255",
        builtin=True,
    )
