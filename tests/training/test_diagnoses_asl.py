"""The course's lesson, small: a dense network on a few hundred ASL rows learns them by heart and
is diagnosed as overfitting, with remedies (its own file: the run takes about 20 s)."""

import pytest

from tests.factories import job_spec_model
from tests.training.test_diagnoses import codes, trained
from training.diagnoses import diagnose

DENSE = {"layers": [
    {"type": "flatten"},
    {"type": "batch_norm", "momentum": 0.5},  # scales the pixels so 300 rows fit in seconds
    {"type": "dense", "units": 512, "activation": "relu"},
    {"type": "dense", "units": 512, "activation": "relu"},
    {"type": "dense", "units": 24, "activation": "softmax"},
]}  # fmt: skip


def test_a_dense_network_on_a_few_hundred_asl_rows_overfits_with_remedies():
    pytest.importorskip("keras")
    spec = job_spec_model(dataset="asl", classes=24, limit=500, validation=0.4, epochs=14,
                          batch_size=32, seed=0, model=DENSE,
                          optimizer={"name": "adam", "learning_rate": 0.001})  # fmt: skip
    rows, spec = trained(spec)
    verdict, found = diagnose(rows, spec, "classification", "succeeded", classes=24)
    assert "overfitting" in codes(found), [d.evidence for d in found]
    overfitting = next(d for d in found if d.code == "overfitting")
    assert rows[-1]["accuracy"] > 0.9 > rows[-1]["val_accuracy"]
    remedies = " ".join(overfitting.remedies)
    assert '"dropout"' in remedies and '"restore_best_weights": true' in remedies
    assert verdict.outcome == "overfitting" and verdict.success
