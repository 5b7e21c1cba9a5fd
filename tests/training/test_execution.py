"""Several steps per execution: faster, and nothing a user sees changes (issue #14).

An execution of k steps runs the same steps, in the same order, as k executions of one; the
batch hooks (cancel, progress) run once per execution, and an epoch's last execution is cut
short at the epoch's end, so epochs stay epochs.
"""

from pathlib import Path

import numpy as np
import pytest

from core.settings import PROJECT_ROOT
from tests.factories import job_spec_model
from training import builtin_datasets
from training.user_data import UserData

pytest.importorskip("keras")

from tests.training.test_epoch_order import epoch_orders, rows, rows_spec  # noqa: E402, F401
from training.keras.epoch_order import epoch_order  # noqa: E402
from training.keras.execution import MAX_STEPS, TARGET_SECONDS, steps_for  # noqa: E402
from training.keras.fit import train  # noqa: E402

DATA = PROJECT_ROOT / "data"
# 400 training rows in batches of 50: 8 steps an epoch; 3 steps per execution do not divide it.
# Dropout: its random masks are drawn in the same order too.
SPEC = job_spec_model(limit=500, validation=0.2, units=16, dropout=0.3, epochs=2, batch_size=50)


def history(steps_per_execution: int, **callbacks) -> list[dict]:
    result = train(
        SPEC, DATA, lambda *_: None, steps_per_execution=steps_per_execution, **callbacks
    )
    assert result.execution is not None
    assert result.execution.steps_per_execution == steps_per_execution
    return [{k: v for k, v in row.items() if k != "seconds"} for row in result.history]


def test_the_history_is_the_same_whatever_the_steps_per_execution():
    assert history(3) == history(1)


def test_an_execution_never_runs_into_the_next_epochs_rows(
    rows: UserData,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
):
    """24 rows in batches of 1, 5 steps per execution: each epoch still visits its 24 rows in
    its own order (read off the model, as in test_epoch_order.py)."""
    from training.keras import fit

    spec = rows_spec(epochs=2)
    monkeypatch.setattr(fit, "steps_for", lambda *_: 5)
    orders = epoch_orders(spec, rows)
    assert orders == {e + 1: epoch_order(24, spec.seed, e).tolist() for e in range(2)}


def test_cancel_and_progress_run_between_executions_and_keep_whole_epochs():
    checks = 0
    progress: list[tuple] = []

    def should_stop() -> bool:
        nonlocal checks
        checks += 1
        return checks >= 4  # during epoch 2's first execution (3 executions an epoch)

    epochs = history(3, should_stop=should_stop, on_batch=lambda *a: progress.append(a))
    assert [row["epoch"] for row in epochs] == [0, 1]
    assert checks == 4
    assert progress[0][:3] == (1, 3, 8)  # step counts the execution's steps
    assert all(1 <= step <= steps == 8 for _, step, steps, _ in progress)


def test_the_number_is_chosen_so_an_execution_stays_short():
    # 10 µs a row forward, batches of 32: ~1 ms a step, so ~150 steps: capped at MAX_STEPS.
    assert steps_for(10e-6, 32, 1875) == MAX_STEPS
    # 200 µs a row (a CNN): ~19 ms a step, 7 fit in the target: 4 (a power of two, below).
    assert steps_for(200e-6, 32, 858) == 4
    assert TARGET_SECONDS >= 4 * 3 * 200e-6 * 32
    assert steps_for(1e-6, 32, 3) == 3  # never more than an epoch
    assert steps_for(None, 32, 100) == 1  # nothing measured: Keras' default
    assert steps_for(0.01, 128, 100) == 1  # a slow step runs alone


def test_the_prepared_arrays_kept_between_jobs_are_the_ones_read_afresh(tmp_path: Path):
    fresh = builtin_datasets.load("asl", DATA)
    builtin_datasets.load("asl", DATA, cache_dir=tmp_path)  # writes the cache
    kept = builtin_datasets.load("asl", DATA, cache_dir=tmp_path, limit=20_000)  # maps it
    assert not kept.x_train.flags.writeable  # no job can change the next one's data
    assert np.array_equal(kept.x_train, fresh.x_train[:20_000])
    assert np.array_equal(kept.y_train, fresh.y_train[:20_000])
    assert np.array_equal(kept.x_test, fresh.x_test)
    assert kept.x_train.dtype == np.float32
    small = builtin_datasets.load("asl", DATA, cache_dir=tmp_path / "other", limit=100)
    assert np.array_equal(small.x_train, fresh.x_train[:100])
    assert not (tmp_path / "other").exists()  # a small slice is read, not cached
