"""The fit loop visits the training rows in a new order every epoch, and the seed fixes them all.

The order is read off a real fit: each row of the data set is one-hot (row r is 1 in column r
only), the first layer is a batch norm with momentum 0.5, and batches hold one row. After every
step the layer's moving mean keeps half of what it held and adds half of the row just seen, so
at the end of an epoch a row's column holds 0.5 ** (steps after it, plus one): sorting the
columns by value lists the rows in the order the epoch visited them (rows never trained on stay
at exactly 0). The moving mean is read from the checkpoint the fit writes after every epoch.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from training.data_info import DataInfo
from training.spec import JobSpec
from training.user_data import UserData, save

keras = pytest.importorskip("keras")

from training.keras.checkpoints import MODEL_FILE, STATE_FILE, Resume  # noqa: E402
from training.keras.epoch_order import epoch_order  # noqa: E402
from training.keras.fit import train  # noqa: E402

ROWS = 24
DATA = Path("unused-for-uploaded-data")


@pytest.fixture
def rows(tmp_path: Path) -> UserData:
    path = tmp_path / "rows.npz"
    targets = np.linspace(0, 1, ROWS, dtype=np.float32).reshape(-1, 1)
    save(path, np.eye(ROWS, dtype=np.float32), targets)
    info = DataInfo(
        name="rows", task="regression", input_shape=(ROWS,), train_size=ROWS, target_size=1
    )
    return UserData(info, path)


def rows_spec(**overrides: object) -> JobSpec:
    body: dict[str, object] = {
        "dataset": {"name": "rows"},
        "model": {
            "layers": [
                {"type": "batch_norm", "momentum": 0.5},
                {"type": "dense", "units": 1, "activation": "linear"},
            ]
        },
        "loss": "mse",
        "optimizer": {"name": "sgd", "learning_rate": 0.01},
        "epochs": 4,
        "batch_size": 1,
        "seed": 7,
    }
    body.update(overrides)
    return JobSpec.model_validate(body)


def epoch_orders(
    spec: JobSpec, rows: UserData, keep: Path | None = None, resume_from: Resume | None = None
) -> dict[int, list[int]]:
    """Epoch (1-based) -> the rows in the order that epoch trained on them."""
    orders: dict[int, list[int]] = {}

    def read(folder: Path, epoch: int) -> None:
        model = keras.saving.load_model(folder / MODEL_FILE)
        moving_mean = model.layers[0].moving_mean.numpy()
        orders[epoch] = [int(r) for r in np.argsort(moving_mean, kind="stable") if moving_mean[r]]
        if keep is not None:
            shutil.copytree(folder, keep / f"epoch-{epoch}")

    train(spec, DATA, lambda *_: None, user_data=rows, on_checkpoint=read, resume_from=resume_from)
    return orders


def test_every_epoch_visits_the_rows_in_a_new_order(rows: UserData):
    orders = epoch_orders(rows_spec(), rows)
    assert sorted(orders) == [1, 2, 3, 4]
    for order in orders.values():
        assert sorted(order) == list(range(ROWS))  # every row once per epoch
    assert len({tuple(order) for order in orders.values()}) == 4
    assert orders[1] != list(range(ROWS))  # shuffled, not the data's order
    assert orders == {e: epoch_order(ROWS, seed=7, epoch=e - 1).tolist() for e in orders}


def test_the_same_seed_gives_the_same_orders_and_another_seed_others(rows: UserData):
    first = epoch_orders(rows_spec(), rows)
    assert epoch_orders(rows_spec(), rows) == first
    other = epoch_orders(rows_spec(seed=8), rows)
    assert all(other[epoch] != first[epoch] for epoch in first)


def test_a_fit_resumed_at_an_epoch_sees_the_orders_an_uninterrupted_fit_sees(
    rows: UserData, tmp_path: Path
):
    uninterrupted = epoch_orders(rows_spec(), rows, keep=tmp_path)
    checkpoint = tmp_path / "epoch-2"
    resume = Resume.load(checkpoint / MODEL_FILE, checkpoint / STATE_FILE)
    resumed = epoch_orders(rows_spec(), rows, resume_from=resume)
    assert resumed == {3: uninterrupted[3], 4: uninterrupted[4]}


def test_without_shuffle_every_epoch_visits_the_rows_in_the_data_order(rows: UserData):
    orders = epoch_orders(rows_spec(shuffle=False), rows)
    assert orders == {epoch: list(range(ROWS)) for epoch in (1, 2, 3, 4)}


def test_only_the_training_part_of_a_validation_split_is_reshuffled(rows: UserData):
    spec = rows_spec(dataset={"name": "rows", "validation": {"fraction": 0.25}})
    orders = epoch_orders(spec, rows)
    trained = {frozenset(order) for order in orders.values()}
    assert len(trained) == 1  # the same rows every epoch: the split does not move
    assert len(next(iter(trained))) == ROWS - ROWS // 4  # and no validation row among them
    assert len({tuple(order) for order in orders.values()}) == 4
