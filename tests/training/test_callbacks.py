"""Stopping a fit when asked and reporting batch progress, on a slice of the real data."""

import pytest

from core.settings import PROJECT_ROOT
from tests.factories import job_spec_model

pytest.importorskip("keras")

from training.keras.fit import train  # noqa: E402

DATA = PROJECT_ROOT / "data"
SPEC = job_spec_model(
    limit=1000, validation=0.2, units=16, epochs=5, batch_size=50
)  # 800 training rows: 16 steps an epoch


def test_a_fit_stops_after_the_batch_during_which_it_was_asked_and_keeps_whole_epochs():
    batches = 0

    def should_stop() -> bool:
        nonlocal batches
        batches += 1
        return batches >= 20  # asked during the fourth batch of epoch 2

    epochs: list[int] = []
    result = train(SPEC, DATA, lambda epoch, *_: epochs.append(epoch), should_stop=should_stop)
    assert result.stopped
    assert batches == 20  # no batch ran after the one that saw the request
    assert epochs == [0, 1]  # the unfinished epoch 2 is not reported as if it were whole
    assert [row["epoch"] for row in result.history] == [0, 1]
    assert result.final_metrics["val_loss"] == result.history[-1]["val_loss"]


def test_batch_progress_names_the_epoch_the_step_and_the_steps():
    progress: list[tuple] = []
    spec = SPEC.model_copy(update={"epochs": 2})
    result = train(spec, DATA, lambda *_: None, on_batch=lambda *args: progress.append(args))
    assert not result.stopped
    assert progress, "at least the first batch is reported"
    epoch, step, steps, loss = progress[0]
    assert (epoch, step, steps) == (1, 1, 16)
    assert loss > 0
    assert all(1 <= p[1] <= p[2] == 16 and p[0] in (1, 2) for p in progress)
