"""Why a job learns, or doesn't: diagnoses with their evidence and remedies, and a verdict.

A pure function of the history rows (``services.epochs.as_row``: losses, accuracies and the
layer health of each epoch) and the spec, so the API, the page, the CLI and the tests agree.
Spec-time warnings (``training.advice``) use the same codes: a warning names the diagnosis the
spec is heading for.

Rules (docs/diagnoses.md has them in prose; every threshold is a constant below):

- ``diverged`` (error): the training loss turned NaN or infinite (stored as null) in a trained
  epoch; or it blew up past ``EXPLODED`` × the untrained model's (epoch 0's) loss; or every
  trained epoch's loss stayed above ``ROSE`` × epoch 0's (it rose from the start and never came
  back). Every other diagnosis is then a symptom and left out.
- ``not_learning`` (error): the last epoch's training loss is still within ``FLAT`` (5%) of
  epoch 0's and, for classification, training accuracy is below chance + ``CHANCE_MARGIN``.
  Judged once the job has finished or has trained ``MIN_EPOCHS_JUDGED`` epochs.
- ``vanishing_gradients`` (warning): in the latest epoch with layer health, the gradient norm of
  the first weighted layer (dense or conv2d) is ``VANISHING_RATIO`` (100) times or more below
  the last one's; ``since_epoch`` is the first epoch of the run of epochs where it was.
- ``dead_relus`` (warning): a hidden relu layer whose units are dead (0 on every sample row) for
  ``DEAD_FRACTION`` (half) or more of them, in the latest epoch with layer health.
- ``saturated_activations`` (warning): a hidden sigmoid or tanh layer with
  ``SATURATED_FRACTION`` (half) or more of its units pinned at its limits.
- ``overfitting`` (warning): the job's flag (services/overfitting.py: validation loss rose for
  the patience's epochs in a row while training loss fell, and no later epoch beat the best);
  or the gap rule: the last epoch is ``PAST_BEST`` (2) or more epochs after the best (lowest
  validation loss), its validation loss is more than ``WORSE`` (10%) above the best's and its
  training loss below the best epoch's (a noisy training loss can keep the flag from firing).
  The gap rule is skipped when early stopping restores the best weights.
- ``underfitting`` (warning): a finished classification job whose last training accuracy is below
  ``UNDERFIT_ACCURACY`` (0.8), neither diverged, nor flat, nor overfitting.

The verdict's ``success`` is true only for a succeeded job without an error diagnosis.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

from typing_extensions import TypeAliasType

from training.optimizer_specs import peak_rate
from training.spec import JobSpec
from training.targets import is_regression_loss
from training.vocabulary import PROBABILITY_ACTIVATIONS

DiagnosisCode = TypeAliasType(
    "DiagnosisCode",
    Literal[
        "diverged",
        "not_learning",
        "vanishing_gradients",
        "dead_relus",
        "saturated_activations",
        "overfitting",
        "underfitting",
    ],
)
Outcome = TypeAliasType(
    "Outcome",
    Literal[
        "healthy",
        "overfitting",
        "diverged",
        "not_learning",
        "underfitting",
        "unhealthy",
        "in_progress",
        "failed",
        "cancelled",
    ],
)
Severity = TypeAliasType("Severity", Literal["error", "warning"])


@dataclass(frozen=True)
class Kind:
    """One word of the vocabulary: what it is called and how bad it is."""

    code: str
    title: str
    severity: Severity


VOCABULARY: dict[str, Kind] = {
    kind.code: kind
    for kind in (
        Kind("diverged", "Diverged", "error"),
        Kind("not_learning", "Not learning", "error"),
        Kind("vanishing_gradients", "Vanishing gradients", "warning"),
        Kind("dead_relus", "Dead ReLUs", "warning"),
        Kind("saturated_activations", "Saturated activations", "warning"),
        Kind("overfitting", "Overfitting", "warning"),
        Kind("underfitting", "Underfitting", "warning"),
    )
}
CODES: tuple[str, ...] = get_args(DiagnosisCode.__value__)

# The thresholds (docs/diagnoses.md).
EXPLODED = 2.0  # a trained epoch's loss above this many times epoch 0's: diverged
ROSE = 1.1  # every trained epoch's loss above this many times epoch 0's: diverged
FLAT = 0.05  # the last loss fell by less than this share of epoch 0's: flat
CHANCE_MARGIN = 0.1  # "near chance": accuracy below 1/classes + this
MIN_EPOCHS_JUDGED = 2  # a running job is judged flat only after this many trained epochs
VANISHING_RATIO = 100.0  # last layer's gradient norm / first layer's
DEAD_FRACTION = 0.5
SATURATED_FRACTION = 0.5
PAST_BEST = 2  # overfitting by the gap rule: this many epochs past the best epoch,
WORSE = 0.1  # validation loss this share above the best's
UNDERFIT_ACCURACY = 0.8
STILL_RISING = 0.01  # training accuracy rose by more than this in the last epoch
# Rates outside the range each optimizer usually trains with (training/advice.py warns above).
LOW_RATE = {"sgd": 1e-3}
LOW_ADAPTIVE_RATE = 1e-4
HIGH_RATE = {"sgd": 0.1}
HIGH_ADAPTIVE_RATE = 0.01

WEIGHTED = ("dense", "conv2d")
SATURATING = ("sigmoid", "tanh")
RUNNING = ("queued", "running", "cancelling")
ERROR_ORDER = ("diverged", "not_learning")
WARNING_ORDER = ("overfitting", "underfitting")


@dataclass(frozen=True)
class Diagnosis:
    code: str
    since_epoch: int | None
    evidence: str
    numbers: dict[str, float | int | str | None]
    remedies: list[str]
    title: str = field(init=False)
    severity: Severity = field(init=False)

    def __post_init__(self) -> None:
        kind = VOCABULARY[self.code]
        object.__setattr__(self, "title", kind.title)
        object.__setattr__(self, "severity", kind.severity)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Verdict:
    outcome: str
    success: bool
    summary: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


Row = Mapping[str, Any]


@dataclass(frozen=True)
class _Run:
    """What the rules read: the rows in epoch order and the spec's facts."""

    rows: list[Row]
    spec: JobSpec
    task: str | None
    status: str
    classes: int | None

    @property
    def first(self) -> Row:
        return self.rows[0]

    @property
    def last(self) -> Row:
        return self.rows[-1]

    @property
    def trained(self) -> list[Row]:
        return [row for row in self.rows if row["epoch"] >= 1]

    @property
    def finished(self) -> bool:
        return self.status not in RUNNING

    @property
    def rate(self) -> float:
        return peak_rate(self.spec.optimizer.learning_rate)

    @property
    def optimizer(self) -> str:
        return self.spec.optimizer.name

    @property
    def rate_field(self) -> str:
        scheduled = not isinstance(self.spec.optimizer.learning_rate, int | float)
        return "optimizer.learning_rate" + (".initial_learning_rate" if scheduled else "")

    @property
    def classification(self) -> bool:
        return self.task in ("classification", "binary")

    @property
    def chance(self) -> float | None:
        if self.task == "binary":
            return 0.5
        return 1 / self.classes if self.task == "classification" and self.classes else None

    def health(self) -> list[tuple[int, list[dict[str, Any]]]]:
        """(epoch, layers) for every row that recorded layer health."""
        return [(row["epoch"], row["health"]) for row in self.rows if row.get("health")]


def diagnose(
    rows: Sequence[Row],
    spec: JobSpec,
    task: str | None,
    status: str,
    *,
    classes: int | None = None,
) -> tuple[Verdict, list[Diagnosis]]:
    """The verdict and the diagnoses of a job's history so far (``classes``: how many the
    model tells apart, for "near chance"; the last dense layer's units when not given)."""
    ordered = sorted(rows, key=lambda row: row["epoch"])
    run = _Run(ordered, spec, task, status, classes or _output_units(spec))
    if not ordered or ordered[0]["epoch"] != 0:
        return _verdict(run, []), []
    diverged = _diverged(run)
    if diverged is not None:
        found = [diverged]
    else:
        health = [d for rule in HEALTH_RULES if (d := rule(run)) is not None]
        flat = _not_learning(run, health)
        overfit = _overfitting(run)
        under = None if flat or overfit else _underfitting(run)
        found = [d for d in (flat, overfit, under) if d is not None] + health
    return _verdict(run, found), found


def _verdict(run: _Run, found: list[Diagnosis]) -> Verdict:
    codes = [d.code for d in found]
    error = next((code for code in ERROR_ORDER if code in codes), None)
    success = run.status == "succeeded" and error is None
    if error is not None:
        return Verdict(error, False, _summaries[error](run, found[codes.index(error)]))
    if run.status in ("failed", "cancelled"):
        what = "failed" if run.status == "failed" else "was cancelled"
        return Verdict(run.status, False, f"The job {what} before it finished training.")
    if not run.finished:
        done = len(run.trained)
        if run.status == "queued":
            return Verdict("in_progress", False, "Queued: training has not started yet.")
        return Verdict("in_progress", False, f"Training: {done} of {run.spec.epochs} epochs done.")
    warning = next((code for code in WARNING_ORDER if code in codes), None)
    if warning is not None:
        return Verdict(warning, success, _summaries[warning](run, found[codes.index(warning)]))
    if found:
        names = ", ".join(d.title.lower() for d in found)
        return Verdict("unhealthy", success, f"It trained, but with {names}: see the remedies.")
    return Verdict("healthy", success, _healthy_summary(run))


def _healthy_summary(run: _Run) -> str:
    if not run.rows:  # a learning-rate range test: no epochs
        return "It ran to its end; it recorded no epochs to judge."
    best = run.last.get("best_epoch")
    scores = {row["epoch"]: row for row in run.rows}
    row = scores.get(best, run.last) if best is not None else run.last
    shown = "val_accuracy" if row.get("val_accuracy") is not None else "val_loss"
    value = row.get(shown)
    if value is None:
        shown, value = "loss", row.get("loss")
    return (
        f"Trained without a problem: {shown} {_g(value)} at epoch {row['epoch']}, "
        "no sign of divergence, overfitting or unhealthy layers."
    )


# --- diverged ---------------------------------------------------------------------------------


def _diverged(run: _Run) -> Diagnosis | None:
    start = _finite(run.first.get("loss"))
    trained = run.trained
    if not trained:
        return None
    losses = [(row["epoch"], _finite(row.get("loss"))) for row in trained]
    if start is None:
        return _never_finite(run, losses)
    numbers: dict[str, Any] = {"epoch_0_loss": start, "learning_rate": run.rate}
    broken = next(((e, v) for e, v in losses if v is None), None)
    # A loss that blew up and then came back well below the untrained model's was a spike, not
    # a divergence: a run that ends no better than it started (within FLAT) still counts; one
    # that settled back at chance after blowing up has learned nothing.
    last = losses[-1][1]
    worse_at_end = last is None or last > start * (1 - FLAT)
    exploded = next(((e, v) for e, v in losses if v is not None and v > EXPLODED * start), None)
    found = [b for b in (broken, exploded if worse_at_end else None) if b is not None]
    blown = min(found, key=lambda pair: pair[0]) if found else None
    rose = all(v is not None and v > ROSE * start for _, v in losses)
    if blown is None and not rose:
        return None
    since, value = blown if blown is not None else losses[0]
    numbers |= {"epoch": since, "loss": value}
    if value is None:
        evidence = f"the training loss became NaN or infinite at epoch {since}"
    elif rose:
        evidence = f"the training loss rose to {_g(value)} at epoch {since} and never came back"
    else:
        evidence = f"the training loss blew up to {_g(value)} at epoch {since}"
    return Diagnosis(
        "diverged",
        since,
        f"{evidence} (it was {_g(start)} before training): steps of {_g(run.rate)} overshoot "
        "the minimum.",
        numbers,
        _lower_rate(run, "diverges") + [_finder()],
    )


def _never_finite(run: _Run, losses: list[tuple[int, float | None]]) -> Diagnosis | None:
    """The untrained model's loss was already NaN or infinite: diverged if training never
    brought it back (inputs or targets too large for the loss, or a rate that blew up at once)."""
    if losses[-1][1] is not None:
        return None
    return Diagnosis(
        "diverged",
        0,
        "the loss was NaN or infinite before training (epoch 0) and still is at epoch "
        f"{losses[-1][0]}: the numbers are too large for the loss to hold.",
        {"epoch": losses[-1][0], "loss": None, "learning_rate": run.rate},
        [
            "Scale the inputs and the targets to around 1 (standardise a table's columns; "
            "divide large regression targets by their typical size).",
            *_lower_rate(run, "diverges"),
        ],
    )


def _lower_rate(run: _Run, still: str) -> list[str]:
    lower = run.rate / 10
    return [
        f"Lower the learning rate ten times: {run.rate_field} {_g(run.rate)} -> {_g(lower)}; if "
        f"it still {still}, divide by 10 again.",
    ]


def _finder() -> str:
    return (
        "Find a rate with the learning-rate finder (descent lr-find SPEC): pick one a little "
        "below where the loss falls fastest."
    )


# --- not learning -----------------------------------------------------------------------------


def _not_learning(run: _Run, health: list[Diagnosis]) -> Diagnosis | None:
    trained = run.trained
    if not trained or not (run.finished or len(trained) >= MIN_EPOCHS_JUDGED):
        return None
    start, end = _finite(run.first.get("loss")), _finite(run.last.get("loss"))
    if start is None or end is None or start <= 0 or end < start * (1 - FLAT):
        return None
    numbers: dict[str, Any] = {"epoch_0_loss": start, "loss": end, "fell_by": 1 - end / start}
    accuracy = _finite(run.last.get("accuracy"))
    chance = run.chance
    if run.classification and accuracy is not None and chance is not None:
        if accuracy >= chance + CHANCE_MARGIN:
            return None
        numbers |= {"accuracy": accuracy, "chance": chance}
    cause, remedies = _why_flat(run, health)
    numbers["cause"] = cause
    at_chance = (
        f", and training accuracy {_g(accuracy)} is near chance ({_g(chance)})"
        if "accuracy" in numbers
        else ""
    )
    evidence = (
        f"after {len(trained)} epochs the training loss is {_g(end)}, within "
        f"{FLAT:.0%} of the untrained model's {_g(start)}{at_chance}. {CAUSES[cause]}"
    )
    return Diagnosis("not_learning", trained[0]["epoch"], evidence, numbers, remedies)


CAUSES = {
    "vanishing_gradients": "The layer health points to vanishing gradients: the first layers "
    "get almost no gradient (see that diagnosis).",
    "loss_activation": "The output's probabilities are trained with a regression loss, whose "
    "gradient vanishes as the output saturates.",
    "rate_too_low": "The learning rate is low for this optimizer, so the weights barely move.",
    "unknown": "The usual causes: a learning rate too low, a loss that does not fit the output "
    "activation, or vanishing gradients.",
}


def _why_flat(run: _Run, health: list[Diagnosis]) -> tuple[str, list[str]]:
    if any(d.code == "vanishing_gradients" for d in health):
        vanishing = next(d for d in health if d.code == "vanishing_gradients")
        return "vanishing_gradients", vanishing.remedies
    loss = run.spec.loss
    output = _output_activation(run.spec)
    if (
        run.classification
        and loss
        and is_regression_loss(loss)
        and output in PROBABILITY_ACTIVATIONS
    ):
        better = "binary_crossentropy" if run.task == "binary" else "categorical_crossentropy"
        return "loss_activation", [
            f'Use "loss": "{better}" with the {output} output instead of {loss}: it '
            "corrects a confident wrong answer in proportion to how wrong it is.",
        ]
    low = LOW_RATE.get(run.optimizer, LOW_ADAPTIVE_RATE)
    if run.rate < low:
        return "rate_too_low", [
            f"Raise the learning rate ten times: {run.rate_field} {_g(run.rate)} -> "
            f"{_g(run.rate * 10)}.",
            _finder(),
        ]
    return "unknown", [
        f"Try a higher learning rate ({run.rate_field} {_g(run.rate)} -> {_g(run.rate * 10)}), "
        "or find one with descent lr-find SPEC.",
        "Check that the loss fits the output: softmax with categorical_crossentropy, sigmoid "
        "with binary_crossentropy, linear with mse.",
        "If hidden layers use sigmoid or tanh, use relu with he_normal initial weights.",
    ]


# --- layer health -----------------------------------------------------------------------------


def _gradient_ratio(layers: list[dict[str, Any]]) -> tuple[dict, dict, float] | None:
    weighted = [
        layer
        for layer in layers
        if layer.get("type") in WEIGHTED and _finite(layer.get("gradient_norm")) is not None
    ]
    if len(weighted) < 2:
        return None
    first, last = weighted[0], weighted[-1]
    if first["gradient_norm"] <= 0:
        return (first, last, math.inf) if last["gradient_norm"] > 0 else None
    return first, last, last["gradient_norm"] / first["gradient_norm"]


def _since(health: list[tuple[int, list[dict[str, Any]]]], holds: Callable[[list], bool]) -> int:
    """The first epoch of the trailing run of epochs where ``holds`` (the latest holds)."""
    since = health[-1][0]
    for epoch, layers in reversed(health):
        if not holds(layers):
            break
        since = epoch
    return since


def _vanishing(run: _Run) -> Diagnosis | None:
    health = run.health()
    if not health:
        return None

    def vanishes(layers: list[dict[str, Any]]) -> bool:
        found = _gradient_ratio(layers)
        return found is not None and found[2] >= VANISHING_RATIO

    epoch, layers = health[-1]
    if not vanishes(layers):
        return None
    first, last, ratio = _gradient_ratio(layers)  # type: ignore[misc]
    squashing = _saturating_layers(run)
    evidence = (
        f"at epoch {epoch} the first weighted layer ({_name(first)}) gets a gradient of norm "
        f"{_g(first['gradient_norm'])}, {_times(ratio)} smaller than the last layer's "
        f"({_name(last)}, {_g(last['gradient_norm'])}): the first layers barely learn"
    )
    if squashing:
        evidence += f"; hidden layers {_list(squashing)} squash their gradients (sigmoid/tanh)"
    remedies = [
        *([_use_relu(run, squashing)] if squashing else []),
        'Add {"type": "batch_norm"} after each dense or conv2d layer: it keeps every layer\'s '
        "inputs, and so its gradients, at a workable scale.",
        'Start from "kernel_initializer": "he_normal" on the relu layers (glorot_uniform suits '
        "sigmoid and tanh).",
    ]
    numbers = {
        "epoch": epoch,
        "first_layer": first.get("layer"),
        "first_layer_gradient_norm": first["gradient_norm"],
        "last_layer": last.get("layer"),
        "last_layer_gradient_norm": last["gradient_norm"],
        "ratio": ratio,
    }
    return Diagnosis(
        "vanishing_gradients", _since(health, vanishes), evidence + ".", numbers, remedies
    )


def _use_relu(run: _Run, squashing: list[str]) -> str:
    if run.spec.model.preset is not None:
        return 'Use "model": {"activation": "relu"} for the preset\'s hidden layers.'
    where = f" in {_list(squashing)}" if squashing else " in the hidden layers"
    return f'Use "activation": "relu" (or elu, gelu){where} instead of sigmoid or tanh.'


def _hidden_layers(run: _Run, layers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Health entries of every layer but the output (the last weighted one)."""
    weighted = [i for i, layer in enumerate(layers) if layer.get("type") in WEIGHTED]
    return layers[: weighted[-1]] if weighted else layers


def _unit_rule(
    run: _Run, key: str, activations: tuple[str, ...], threshold: float
) -> tuple[int, int, list[dict[str, Any]]] | None:
    """(since, epoch, hidden layers of these activations whose ``key`` share >= threshold)."""
    health = run.health()
    if not health:
        return None

    def bad(layers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            layer
            for layer in _hidden_layers(run, layers)
            if layer.get("activation") in activations
            and (_finite(layer.get(key)) or 0.0) >= threshold
        ]

    epoch, layers = health[-1]
    found = bad(layers)
    return (_since(health, lambda ls: bool(bad(ls))), epoch, found) if found else None


def _dead_relus(run: _Run) -> Diagnosis | None:
    found = _unit_rule(run, "dead_fraction", ("relu",), DEAD_FRACTION)
    if found is None:
        return None
    since, epoch, layers = found
    shares = ", ".join(f"{_name(layer)} {layer['dead_fraction']:.0%}" for layer in layers)
    evidence = (
        f"at epoch {epoch}, relu units that output 0 on every sample row (they no longer learn): "
        f"{shares}."
    )
    remedies = [
        *(_lower_rate(run, "kills units") if run.rate > _high(run) else []),
        'Use "activation": "leaky_relu" (a small slope below 0 keeps units alive) or elu or '
        f"gelu in {_list([_name(layer) for layer in layers])}.",
        'Start from "kernel_initializer": "he_normal" (and the default zero biases).',
        'Put {"type": "batch_norm"} before the relu activation to keep inputs centred.',
    ]
    numbers = {f"dead_fraction.{layer.get('layer')}": layer["dead_fraction"] for layer in layers}
    return Diagnosis("dead_relus", since, evidence, {"epoch": epoch, **numbers}, remedies)


def _saturated(run: _Run) -> Diagnosis | None:
    found = _unit_rule(run, "saturated_fraction", SATURATING, SATURATED_FRACTION)
    if found is None:
        return None
    since, epoch, layers = found
    shares = ", ".join(
        f"{_name(layer)} ({layer['activation']}) {layer['saturated_fraction']:.0%}"
        for layer in layers
    )
    evidence = (
        f"at epoch {epoch}, units pinned at their activation's limits on nearly every sample row "
        f"(their slope is about 0, so little gradient passes): {shares}."
    )
    remedies = [
        _use_relu(run, [_name(layer) for layer in layers]),
        'Add {"type": "batch_norm"} before the activation so its inputs stay near 0.',
        *(_lower_rate(run, "saturates") if run.rate > _high(run) else []),
        'Start from smaller weights: "kernel_initializer": "glorot_uniform" (the default).',
    ]
    numbers = {
        f"saturated_fraction.{layer.get('layer')}": layer["saturated_fraction"] for layer in layers
    }
    return Diagnosis(
        "saturated_activations", since, evidence, {"epoch": epoch, **numbers}, remedies
    )


HEALTH_RULES: tuple[Callable[[_Run], Diagnosis | None], ...] = (
    _vanishing,
    _dead_relus,
    _saturated,
)


# --- overfitting and underfitting ------------------------------------------------------------


def _overfitting(run: _Run) -> Diagnosis | None:
    by_epoch = {row["epoch"]: row for row in run.rows}
    best_epoch = run.last.get("best_epoch")
    best = by_epoch.get(best_epoch) if best_epoch is not None else None
    last = run.last
    since = run.last.get("overfitting_since")
    if since is None and best is not None and _past_best(run, best):
        since = best["epoch"] + 1
    if since is None or _best_kept(run, best_epoch, since):
        return None
    numbers: dict[str, Any] = {
        "best_epoch": best_epoch,
        "best_val_loss": best and best.get("val_loss"),
        "val_loss": last.get("val_loss"),
        "loss_at_best": best and best.get("loss"),
        "loss": last.get("loss"),
        "accuracy": last.get("accuracy"),
        "val_accuracy": last.get("val_accuracy"),
    }
    evidence = (
        f"since epoch {since} the validation loss rose "
        f"({_g(numbers['best_val_loss'])} at the best epoch {best_epoch} -> "
        f"{_g(numbers['val_loss'])} at epoch {last['epoch']}) while the training loss fell "
        f"({_g(numbers['loss_at_best'])} -> {_g(numbers['loss'])})"
    )
    if last.get("accuracy") is not None and last.get("val_accuracy") is not None:
        evidence += (
            f"; training accuracy {_g(last['accuracy'])} against validation "
            f"{_g(last['val_accuracy'])}"
        )
    evidence += ": the model learns the training rows by heart rather than what generalises."
    return Diagnosis("overfitting", since, evidence, numbers, _overfitting_remedies(run))


def _best_kept(run: _Run, best_epoch: int | None, since: int) -> bool:
    """Early stopping restored the best validation loss's weights (Keras restores them at the
    end of the fit, stopped early or not) and the rise came after them: the kept model is the
    best epoch's, not an overfitted one."""
    stopping = run.spec.early_stopping
    if stopping is None or not stopping.restore_best_weights or stopping.monitor != "val_loss":
        return False
    return best_epoch is not None and since > best_epoch


def _past_best(run: _Run, best: Row) -> bool:
    """The gap rule: ``PAST_BEST`` or more epochs after the best, validation loss ``WORSE``
    above the best's while training loss is below its value at the best epoch. Left out when
    early stopping restores the best weights (the kept model is the best epoch's)."""
    stopping = run.spec.early_stopping
    if stopping is not None and stopping.restore_best_weights:
        return False
    last = run.last
    values = [_finite(v) for v in (best.get("val_loss"), last.get("val_loss"))]
    losses = [_finite(v) for v in (best.get("loss"), last.get("loss"))]
    if None in values or None in losses or last["epoch"] - best["epoch"] < PAST_BEST:
        return False
    return values[1] > values[0] * (1 + WORSE) and losses[1] < losses[0]  # type: ignore[operator]


def _overfitting_remedies(run: _Run) -> list[str]:
    spec = run.spec
    layers = spec.model.layers or []
    dropout = [layer for layer in layers if layer.type == "dropout"]
    remedies = [
        f"Raise the dropout rate (now {', '.join(_g(d.rate) for d in dropout)}) or add a "
        "dropout layer after each big dense layer."
        if dropout
        else 'Add {"type": "dropout", "rate": 0.3} after each big dense layer (0.2 to 0.5): '
        "units cannot rely on each other, so the model learns sturdier features.",
    ]
    if spec.augmentation is None:
        remedies.append(
            'Augment the training images: "augmentation": {"rotation": 10, "zoom": 0.1, '
            '"translation": 0.1} shows the model new variants every epoch.'
        )
    else:
        remedies.append("Augment more strongly (a larger rotation, zoom or translation).")
    stopping = spec.early_stopping
    if stopping is None or not stopping.restore_best_weights:
        remedies.append(
            'Stop early and keep the best epoch: "early_stopping": {"monitor": "val_loss", '
            '"patience": 2, "restore_best_weights": true}.'
        )
    remedies.append(
        "Give the model less capacity: fewer or narrower dense layers, or convolutions "
        "(conv2d, max_pool2d) that share weights across the image."
    )
    if spec.dataset.limit is not None:
        remedies.append(
            f"Train on more rows: dataset.limit is {spec.dataset.limit}; raise it or leave it out."
        )
    return remedies


def _underfitting(run: _Run) -> Diagnosis | None:
    if not run.finished or not run.classification or len(run.trained) < 1:
        return None
    accuracy = _finite(run.last.get("accuracy"))
    if accuracy is None or accuracy >= UNDERFIT_ACCURACY:
        return None
    val = _finite(run.last.get("val_accuracy"))
    before = _finite(run.rows[-2].get("accuracy")) if len(run.rows) >= 2 else None
    rising = before is not None and accuracy - before > STILL_RISING
    numbers: dict[str, Any] = {"accuracy": accuracy, "val_accuracy": val, "rising": rising}
    evidence = (
        f"training accuracy ends at {_g(accuracy)}"
        + (f" (validation {_g(val)})" if val is not None else "")
        + ": the model does not fit even the rows it trains on"
        + ("; it was still rising" if rising else "")
        + "."
    )
    remedies = []
    if rising:
        remedies.append(
            f'Train longer: "epochs": {run.spec.epochs} -> {run.spec.epochs * 2}; '
            "accuracy was still rising."
        )
    if run.rate > _high(run) or _bumpy(run):
        remedies += _lower_rate(run, "jumps around")
    elif run.rate < LOW_RATE.get(run.optimizer, LOW_ADAPTIVE_RATE):
        remedies.append(
            f"Raise the learning rate: {run.rate_field} {_g(run.rate)} -> {_g(run.rate * 10)}."
        )
    remedies.append(
        "Give the model more capacity: more units or another hidden layer, or convolutions "
        "(conv2d) for images."
    )
    if not rising:
        remedies.append(f'Train longer: "epochs": {run.spec.epochs} -> {run.spec.epochs * 2}.')
    return Diagnosis("underfitting", run.last["epoch"], evidence, numbers, remedies)


def _bumpy(run: _Run) -> bool:
    """The training loss rose in some trained epoch (steps too large to settle)."""
    losses = [_finite(row.get("loss")) for row in run.trained]
    return any(
        a is not None and b is not None and b > a for a, b in zip(losses, losses[1:], strict=False)
    )


# --- summaries and helpers --------------------------------------------------------------------


_summaries: dict[str, Callable[[_Run, Diagnosis], str]] = {
    "diverged": lambda run, d: (
        f"Diverged at epoch {d.since_epoch}: the learning rate {_g(run.rate)} is too high; "
        f"try {_g(run.rate / 10)}."
    ),
    "not_learning": lambda run, d: (
        "Not learning: the training loss stayed near its starting value; "
        + {
            "vanishing_gradients": "the gradients vanish before they reach the first layers.",
            "loss_activation": "the loss does not fit the output activation.",
            "rate_too_low": "the learning rate is too low.",
            "unknown": "see the remedies.",
        }[d.numbers["cause"]]  # type: ignore[index]
    ),
    "overfitting": lambda run, d: (
        f"Overfitting since epoch {d.since_epoch}: the best model was epoch "
        f"{d.numbers['best_epoch']}; see the remedies."
    ),
    "underfitting": lambda run, d: (
        f"Underfitting: training accuracy ended at {_g(d.numbers['accuracy'])}; see the remedies."
    ),
}


def _high(run: _Run) -> float:
    return HIGH_RATE.get(run.optimizer, HIGH_ADAPTIVE_RATE)


def _output_units(spec: JobSpec) -> int | None:
    layers = spec.model.layers or []
    return getattr(layers[-1], "units", None) if layers else None


def _output_activation(spec: JobSpec) -> str | None:
    layers = spec.model.layers or []
    return getattr(layers[-1], "activation", None) if layers else None


def _saturating_layers(run: _Run) -> list[str]:
    layers = run.spec.model.layers or []
    if run.spec.model.preset is not None:
        return ["the preset's hidden layers"] if run.spec.model.activation in SATURATING else []
    return [
        f"model.layers[{i}]"
        for i, layer in enumerate(layers[:-1])
        if getattr(layer, "activation", None) in SATURATING
    ]


def _name(layer: dict[str, Any]) -> str:
    index = layer.get("index")
    return f"model.layers[{index}]" if index is not None else str(layer.get("layer"))


def _list(names: list[str]) -> str:
    return ", ".join(names)


def _times(ratio: float) -> str:
    return "infinitely many times" if math.isinf(ratio) else f"{ratio:,.0f} times"


def _finite(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _g(value: Any) -> str:
    return "—" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)
