"""The fit loop on slices of the real data: epoch 0 first, every epoch reported, export checked."""

from functools import partial
from pathlib import Path

import numpy as np
import pytest

from core.settings import PROJECT_ROOT
from tests.factories import job_spec_model
from training.data_info import builtin_info
from training.resolve import resolve
from training.spec import JobSpec

pytest.importorskip("keras")

from training.keras.export import export_model  # noqa: E402
from training.keras.fit import prepare, train  # noqa: E402

DATA = PROJECT_ROOT / "data"
small_spec = partial(job_spec_model, limit=1500, validation=0.2, epochs=3, batch_size=64)


def run(spec: JobSpec):
    reported = []
    result = train(spec, DATA, lambda epoch, seconds, logs: reported.append((epoch, logs)))
    return result, reported


def test_every_epoch_is_reported_starting_with_the_untrained_model():
    result, reported = run(small_spec())
    assert [epoch for epoch, _ in reported] == [0, 1, 2, 3]
    for _, logs in reported:
        assert {"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"} <= set(logs)
    untrained, last = reported[0][1], reported[-1][1]
    assert untrained["val_accuracy"] < 0.3  # ten classes: an untrained model is near chance
    assert last["val_loss"] < untrained["val_loss"]
    assert last["val_accuracy"] > 0.8
    assert result.final_metrics["val_accuracy"] == last["val_accuracy"]


def test_sparse_loss_trains_on_integer_labels():
    spec = small_spec(loss="sparse_categorical_crossentropy", epochs=1)
    assert prepare(resolve(spec, builtin_info("mnist")), DATA).y_train.ndim == 1
    _, reported = run(spec)
    assert reported[-1][1]["val_accuracy"] > 0.6


def test_same_seed_gives_the_same_untrained_loss():
    _, first = run(small_spec(epochs=1))
    _, second = run(small_spec(epochs=1))
    assert first[0][1]["loss"] == pytest.approx(second[0][1]["loss"], rel=1e-6)


def test_runs_that_differ_only_in_batch_size_start_from_the_same_epoch_0():
    # A seeded batch-size sweep compares its arms from one shared starting point.
    _, small = run(small_spec(epochs=1, batch_size=16))
    _, large = run(small_spec(epochs=1, batch_size=128))
    assert small[0] == large[0]
    assert small[1] != large[1]


def test_onnx_export_matches_keras(tmp_path: Path):
    result, _ = run(small_spec(epochs=1))
    exported = export_model(result.model, result.sample, tmp_path)
    assert exported.keras_path.is_file() and exported.onnx_path.is_file()
    assert exported.max_abs_diff <= 1e-5
    assert exported.samples_checked == len(result.sample) > 0
    assert np.isfinite(exported.max_abs_diff)
