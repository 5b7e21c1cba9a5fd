"""Diagnoses and the verdict: the rules on constructed histories, then on real training.

The real runs are small slices trained in-process with layer health on, their epoch logs turned
into history rows as the service stores them (a NaN loss becomes null)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from core.settings import PROJECT_ROOT
from services.overfitting import EpochLosses, assess
from tests.factories import job_spec_model
from training import diagnoses
from training.diagnoses import CODES, VOCABULARY, diagnose

DATA = PROJECT_ROOT / "data"


def row(epoch: int, loss: float | None, accuracy: float | None = None, **fields: Any) -> dict:
    base = {"epoch": epoch, "loss": loss, "accuracy": accuracy, "val_loss": None,
            "val_accuracy": None, "learning_rate": 0.001, "seconds": 1.0, "metrics": {},
            "best_epoch": None, "overfitting_since": None, "health": None}  # fmt: skip
    return base | fields


def layer(index: int, gradient: float, activation: str = "relu", **fields: Any) -> dict:
    squashes = activation in ("sigmoid", "tanh")
    return {"index": index, "layer": f"dense_{index}", "type": "dense", "activation": activation,
            "weight_norm": 1.0, "gradient_norm": gradient, "update_ratio": None,
            "dead_fraction": 0.0 if activation == "relu" else None,
            "saturated_fraction": 0.0 if squashes else None} | fields  # fmt: skip


HEALTHY = [
    row(0, 2.35, 0.09, val_loss=2.34, val_accuracy=0.1, best_epoch=0),
    row(1, 0.60, 0.84, val_loss=0.40, val_accuracy=0.88, best_epoch=1),
    row(2, 0.35, 0.90, val_loss=0.33, val_accuracy=0.91, best_epoch=2),
]


def codes(found: list) -> list[str]:
    return [d.code for d in found]


def test_every_spec_warning_code_is_a_diagnosis():
    from training.advice import advise
    from training.data_info import builtin_info
    from training.resolve import resolve

    sigmoids = [{"type": "flatten"}] + [{"type": "dense", "units": 8, "activation": "sigmoid"}] * 3
    spec = job_spec_model(
        model={"layers": [*sigmoids, {"type": "dense", "units": 10, "activation": "softmax"}]},
        loss="mse", optimizer={"name": "adam", "learning_rate": 1.0},
    )  # fmt: skip
    resolution = resolve(spec, builtin_info("mnist"))
    warned = {w.code for w in advise(resolution.spec, resolution.data, resolution.targets)}
    assert warned == {"vanishing_gradients", "diverged", "not_learning"}
    assert set(CODES) == set(VOCABULARY)


def test_a_healthy_run_has_no_diagnosis_and_succeeds():
    verdict, found = diagnose(HEALTHY, job_spec_model(), "classification", "succeeded")
    assert found == []
    assert (verdict.outcome, verdict.success) == ("healthy", True)
    assert "0.91" in verdict.summary


def test_a_nan_loss_is_diverged_and_never_a_success():
    rows = [row(0, 2.3, 0.1), row(1, 9.0, 0.1), row(2, None, 0.1)]
    spec = job_spec_model(optimizer={"name": "sgd", "learning_rate": 5.0})
    verdict, found = diagnose(rows, spec, "classification", "succeeded")
    assert codes(found) == ["diverged"]  # the rest would be symptoms
    assert found[0].since_epoch == 1  # 9.0 is more than twice 2.3
    assert found[0].severity == "error"
    assert "5 -> 0.5" in found[0].remedies[0]
    _, nan_first = diagnose([row(0, 2.3), row(1, None)], spec, "classification", "running")
    assert nan_first[0].since_epoch == 1 and "NaN" in nan_first[0].evidence
    assert (verdict.outcome, verdict.success) == ("diverged", False)


def test_a_spike_the_run_recovers_from_is_not_a_divergence():
    rows = [row(0, 2.3, 0.1), row(1, 5.0, 0.3), row(2, 0.3, 0.9), row(3, 0.1, 0.97)]
    verdict, found = diagnose(rows, job_spec_model(), "classification", "succeeded")
    assert "diverged" not in codes(found) and verdict.success
    settled = [row(0, 2.3, 0.1), row(1, 1514.0, 0.1), row(2, 2.29, 0.1)]  # back at chance
    _, found = diagnose(settled, job_spec_model(), "classification", "succeeded")
    assert codes(found) == ["diverged"] and found[0].since_epoch == 1


def test_a_loss_never_finite_from_the_start_is_diverged():
    rows = [row(0, None), row(1, None), row(2, None)]
    verdict, found = diagnose(rows, job_spec_model(), "regression", "succeeded")
    assert codes(found) == ["diverged"] and found[0].since_epoch == 0
    assert (verdict.outcome, verdict.success) == ("diverged", False)
    assert "Scale the inputs and the targets" in found[0].remedies[0]


def test_a_loss_that_rises_from_the_start_is_diverged():
    rows = [row(0, 2.3), row(1, 2.6), row(2, 2.7)]
    _, found = diagnose(rows, job_spec_model(), "classification", "succeeded")
    assert codes(found) == ["diverged"] and found[0].since_epoch == 1
    _, dipped = diagnose(
        [*rows[:2], row(2, 1.0, 0.7)], job_spec_model(), "classification", "succeeded"
    )
    assert "diverged" not in codes(dipped)


def test_a_flat_loss_at_chance_is_not_learning_and_names_the_low_rate():
    rows = [row(0, 2.30, 0.10), row(1, 2.29, 0.11), row(2, 2.28, 0.12)]
    spec = job_spec_model(optimizer={"name": "sgd", "learning_rate": 1e-5})
    verdict, found = diagnose(rows, spec, "classification", "succeeded", classes=10)
    assert codes(found) == ["not_learning"]
    assert found[0].numbers["cause"] == "rate_too_low"
    assert "1e-05 -> 0.0001" in found[0].remedies[0]
    assert (verdict.outcome, verdict.success) == ("not_learning", False)


def test_a_flat_loss_with_probabilities_and_mse_blames_the_pairing():
    rows = [row(0, 0.090, 0.10), row(1, 0.089, 0.11)]
    _, found = diagnose(rows, job_spec_model(loss="mse"), "classification", "succeeded")
    assert found[0].numbers["cause"] == "loss_activation"
    assert "categorical_crossentropy" in found[0].remedies[0]


def test_flat_but_well_above_chance_is_not_not_learning():
    rows = [row(0, 0.50, 0.80), row(1, 0.49, 0.85)]
    _, found = diagnose(rows, job_spec_model(), "classification", "succeeded", classes=10)
    assert "not_learning" not in codes(found)


def test_a_running_job_is_not_judged_flat_after_one_epoch():
    rows = [row(0, 2.30, 0.10), row(1, 2.29, 0.11)]
    verdict, found = diagnose(rows, job_spec_model(epochs=5), "classification", "running")
    assert found == [] and verdict.outcome == "in_progress" and not verdict.success


def health_rows(first: float, last: float) -> list[dict]:
    return [
        row(e, 2.3 - 0.01 * e, 0.1, health=[layer(1, first, "sigmoid"), layer(2, last, "softmax")])
        for e in range(3)
    ]


def test_vanishing_gradients_are_read_from_the_layer_health():
    rows = health_rows(3e-4, 0.3)
    verdict, found = diagnose(rows, job_spec_model(), "classification", "succeeded")
    assert codes(found) == ["not_learning", "vanishing_gradients"]
    vanishing = found[1]
    assert vanishing.since_epoch == 0
    assert vanishing.numbers["ratio"] == pytest.approx(1000)
    assert any("relu" in remedy for remedy in vanishing.remedies)
    assert any("batch_norm" in remedy for remedy in vanishing.remedies)
    assert any("he_normal" in remedy for remedy in vanishing.remedies)
    assert found[0].numbers["cause"] == "vanishing_gradients"
    _, balanced = diagnose(health_rows(0.05, 0.3), job_spec_model(), "classification", "succeeded")
    assert "vanishing_gradients" not in codes(balanced)


def test_dead_relus_name_the_layers_and_ignore_the_output():
    rows = [
        *HEALTHY[:2],
        HEALTHY[2]
        | {
            "health": [
                layer(1, 0.1, dead_fraction=0.7),
                layer(2, 0.1, dead_fraction=0.2),
                layer(3, 0.1, dead_fraction=0.9),
            ]
        },  # fmt: skip
    ]
    verdict, found = diagnose(rows, job_spec_model(), "classification", "succeeded")
    assert codes(found) == ["dead_relus"]
    assert "model.layers[1] 70%" in found[0].evidence and "layers[2]" not in found[0].evidence
    assert any("leaky_relu" in remedy for remedy in found[0].remedies)
    assert (verdict.outcome, verdict.success) == ("unhealthy", True)


def test_saturated_hidden_sigmoids_are_diagnosed():
    sat = [layer(1, 0.1, "tanh", saturated_fraction=0.8), layer(2, 0.1, "sigmoid",
           saturated_fraction=1.0)]  # fmt: skip
    rows = [*HEALTHY[:2], HEALTHY[2] | {"health": sat}]
    _, found = diagnose(rows, job_spec_model(), "classification", "succeeded")
    assert codes(found) == ["saturated_activations"]
    assert "model.layers[1] (tanh) 80%" in found[0].evidence


def test_overfitting_gets_evidence_and_the_remedies_the_spec_lacks():
    rows = [
        row(0, 2.3, 0.1, val_loss=2.3, best_epoch=0),
        row(1, 0.5, 0.85, val_loss=0.4, val_accuracy=0.88, best_epoch=1),
        row(2, 0.3, 0.92, val_loss=0.45, val_accuracy=0.87, best_epoch=1),
        row(3, 0.1, 0.98, val_loss=0.55, val_accuracy=0.86, best_epoch=1, overfitting_since=2),
    ]
    verdict, found = diagnose(rows, job_spec_model(), "classification", "succeeded")
    assert codes(found) == ["overfitting"]
    assert found[0].since_epoch == 2 and "0.4 at the best epoch 1 -> 0.55" in found[0].evidence
    remedies = " ".join(found[0].remedies)
    for words in ('"dropout"', '"augmentation"', '"restore_best_weights": true', "dataset.limit"):
        assert words in remedies
    assert (verdict.outcome, verdict.success) == ("overfitting", True)
    unflagged = [{**r, "overfitting_since": None} for r in rows]  # a noisy loss kept the flag off
    _, gap = diagnose(unflagged, job_spec_model(), "classification", "succeeded")
    assert codes(gap) == ["overfitting"] and gap[0].since_epoch == 2
    stopping = {"monitor": "val_loss", "patience": 2, "restore_best_weights": True}
    _, kept = diagnose(rows, job_spec_model(early_stopping=stopping), "classification", "succeeded")
    assert kept == []  # the best epoch's weights were kept: the model is not the overfitted one
    watching = {**stopping, "monitor": "val_accuracy"}  # restores another epoch's weights
    other_spec = job_spec_model(early_stopping=watching)
    _, other = diagnose(rows, other_spec, "classification", "succeeded")
    assert "restore_best_weights" not in " ".join(other[0].remedies)


def test_low_training_accuracy_at_the_end_is_underfitting():
    rows = [row(0, 2.3, 0.1), row(1, 1.6, 0.45), row(2, 1.3, 0.55, val_accuracy=0.5)]
    verdict, found = diagnose(rows, job_spec_model(), "classification", "succeeded")
    assert codes(found) == ["underfitting"]
    assert "epochs" in found[0].remedies[0]  # still rising: train longer first
    assert verdict.outcome == "underfitting"
    _, running = diagnose(rows, job_spec_model(epochs=5), "classification", "running")
    assert running == []


@pytest.mark.parametrize(
    ("status", "outcome"),
    [("failed", "failed"), ("cancelled", "cancelled"), ("queued", "in_progress")],
)
def test_the_verdict_of_an_unfinished_job(status: str, outcome: str):
    verdict, _ = diagnose(HEALTHY[:1] if status != "queued" else [], job_spec_model(), None, status)
    assert (verdict.outcome, verdict.success) == (outcome, False)


def test_rows_from_before_layer_health_are_read():
    verdict, _ = diagnose(
        [r | {"health": None} for r in HEALTHY], job_spec_model(), None, "succeeded"
    )
    assert verdict.outcome == "healthy"


# --- real training --------------------------------------------------------------------------


def trained(spec) -> tuple[list[dict], Any]:
    """Train in-process with layer health, and the history rows as the service keeps them."""
    pytest.importorskip("keras")
    from training.keras.fit import train

    logs: list[tuple[int, dict]] = []
    train(spec, DATA, lambda epoch, _, found: logs.append((epoch, found)), health=True)
    rows, losses = [], []
    for epoch, found in logs:
        numbers = {k: _stored(v) for k, v in found.items() if k != "health"}
        losses.append(EpochLosses(epoch, numbers.get("loss"), numbers.get("val_loss")))
        flags = assess(losses, 2)
        rows.append(row(epoch, numbers.get("loss"), numbers.get("accuracy"),
                        val_loss=numbers.get("val_loss"), val_accuracy=numbers.get("val_accuracy"),
                        best_epoch=flags.best_epoch, overfitting_since=flags.overfitting_since,
                        health=found.get("health")))  # fmt: skip
    return rows, spec


def _stored(value: float) -> float | None:
    return value if math.isfinite(value) else None  # as services/epochs._number stores it


def deep(activation: str) -> dict:
    hidden = [{"type": "dense", "units": 32, "activation": activation}] * 6
    return {"layers": [{"type": "flatten"}, *hidden,
                       {"type": "dense", "units": 10, "activation": "softmax"}]}  # fmt: skip


def test_a_deep_sigmoid_net_has_vanishing_gradients_and_its_relu_twin_does_not():
    small = {"limit": 600, "validation": 0.2, "epochs": 1, "batch_size": 32, "seed": 1,
             "optimizer": {"name": "sgd", "learning_rate": 0.01}}  # fmt: skip
    rows, spec = trained(job_spec_model(model=deep("sigmoid"), **small))
    verdict, found = diagnose(rows, spec, "classification", "succeeded")
    assert "vanishing_gradients" in codes(found)
    assert not verdict.success  # it barely moves: not learning, because the gradients vanish
    rows, spec = trained(job_spec_model(model=deep("relu"), **small))
    _, found = diagnose(rows, spec, "classification", "succeeded")
    assert "vanishing_gradients" not in codes(found)


def test_a_learning_rate_far_too_high_diverges():
    spec = job_spec_model(limit=500, validation=0.2, epochs=2, batch_size=32, seed=1,
                          optimizer={"name": "adam", "learning_rate": 10.0})  # fmt: skip
    rows, spec = trained(spec)
    verdict, found = diagnose(rows, spec, "classification", "succeeded")
    assert codes(found) == ["diverged"]
    assert "10 -> 1" in found[0].remedies[0]
    assert verdict.outcome == "diverged" and verdict.success is False


def test_a_healthy_small_mnist_run_has_no_diagnosis():
    spec = job_spec_model(limit=2000, validation=0.2, epochs=3, batch_size=32, units=128, seed=1,
                          optimizer={"name": "adam", "learning_rate": 0.001})  # fmt: skip
    rows, spec = trained(spec)
    verdict, found = diagnose(rows, spec, "classification", "succeeded", classes=10)
    assert found == []
    assert (verdict.outcome, verdict.success) == ("healthy", True)


def test_the_rules_are_documented_with_their_thresholds():
    doc = diagnoses.__doc__ or ""
    for code in CODES:
        assert f"``{code}``" in doc
