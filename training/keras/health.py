"""Layer health: per trainable layer, how big its weights and gradients are and how its units
behave, measured once an epoch on a fixed sample of training rows.

The sample is ``SAMPLE_ROWS`` training rows (all of them if fewer), chosen once with the job's
seed by a numpy generator of its own, so measuring draws nothing from the random state the
fit uses: the same seed gives the same history with or without it. One forward and backward
pass of the inner model (never the augmentation wrapper) with ``training=False`` (dropout and
noise off, batch norm on its moving statistics) gives, per layer:

- ``weight_norm``: the L2 norm of all its trainable weights;
- ``gradient_norm``: the L2 norm of d(loss)/d(those weights), the loss being the compiled loss
  (without weight penalties) averaged over the sample;
- ``update_ratio``: ||w_now - w_before|| / ||w_before|| with ``w_before`` the weights when it
  was last measured (the previous epoch); None at epoch 0 and for a layer whose weights were 0;
- ``dead_fraction`` (relu only): the share of units (dense units, conv channels) whose output
  is 0 for every sample row and position;
- ``saturated_fraction`` (sigmoid and tanh only): the share of units whose output is within
  ``SATURATION_MARGIN`` of the range's width from either limit on at least
  ``SATURATED_SHARE`` of the sample rows (of its rows x positions for a conv channel).

The activation is the layer's own, or that of an ``activation`` layer right after it (e.g. a
batch_norm followed by relu), whose output is then the one measured.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from training.keras.builders import layer_name
from training.resolve import Resolution

SAMPLE_ROWS = 256
SATURATION_MARGIN = 0.02
SATURATED_SHARE = 0.9
RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}


@dataclass(frozen=True)
class _Watched:
    index: int  # in the spec's layer list
    layer: keras.layers.Layer
    type: str
    activation: str | None
    output_of: keras.layers.Layer  # whose output shows the activation's units


def sample_rows(rows: int, seed: int) -> np.ndarray:
    """The sample's row indices, sorted: the same for a seed and data set every epoch."""
    if rows <= SAMPLE_ROWS:
        return np.arange(rows)
    return np.sort(np.random.default_rng(seed).choice(rows, SAMPLE_ROWS, replace=False))


class LayerHealth:
    """Measures a model's layers; ``measure()`` once an epoch returns the epoch's entries.

    Built once per fit. The pass runs eagerly: tracing it as a ``tf.function`` costs about a
    second and a half once, which a few epochs never earn back (on the DLI MNIST model, eager
    takes 20-30 ms an epoch, traced ~10). ``durations`` holds each measurement's seconds."""

    def __init__(
        self,
        model: keras.Model,
        resolution: Resolution,
        loss: Any,
        x: np.ndarray,
        y: np.ndarray,
        seed: int,
    ) -> None:
        rows = sample_rows(len(x), seed)
        self._x = tf.constant(x[rows])
        self._y = tf.constant(y[rows])
        self._watched = _watched_layers(model, resolution)
        measured = [w.output_of.output for w in self._watched if _measures_units(w.activation)]
        probe = keras.Model(model.inputs, [model.outputs[0], *measured])
        variables = [w.layer.trainable_weights for w in self._watched]
        loss_fn = _mean_loss(loss)

        def forward_backward(x: Any, y: Any) -> tuple[Any, Any]:
            with tf.GradientTape() as tape:
                outputs = probe(x, training=False)
                outputs = outputs if isinstance(outputs, list | tuple) else [outputs]
                value = loss_fn(y, tf.cast(outputs[0], tf.float32))
            grads = tape.gradient(value, variables)
            norms = [
                tf.sqrt(tf.add_n([tf.reduce_sum(tf.square(tf.cast(g, tf.float32))) for g in gs]))
                if gs
                else tf.constant(0.0)
                for gs in ([g for g in layer_grads if g is not None] for layer_grads in grads)
            ]
            return norms, [_unit_stats(o, a) for o, a in _pairs(outputs[1:], self._watched)]

        self._run = forward_backward
        self._before = self._weights()  # a resumed fit's first update is from its checkpoint
        self.durations: list[float] = []

    def _weights(self) -> list[list[np.ndarray]]:
        return [
            [
                np.asarray(keras.ops.convert_to_numpy(v), np.float64)
                for v in w.layer.trainable_weights
            ]
            for w in self._watched
        ]

    def measure(self, epoch: int) -> list[dict[str, Any]]:
        """Epoch ``epoch``'s entries (0: the untrained model, with no update ratio)."""
        started = time.perf_counter()
        gradient_norms, unit_stats = self._run(self._x, self._y)
        stats = iter(unit_stats)
        now = self._weights()
        entries = []
        for i, watched in enumerate(self._watched):
            entry = {
                "index": watched.index,
                "layer": watched.layer.name,
                "type": watched.type,
                "activation": watched.activation,
                "weight_norm": _finite(_norm(now[i])),
                "gradient_norm": _finite(float(gradient_norms[i])),
                "update_ratio": _update_ratio(now[i], self._before[i]) if epoch else None,
                "dead_fraction": None,
                "saturated_fraction": None,
            }
            if _measures_units(watched.activation):
                fraction = float(next(stats))
                key = "dead_fraction" if watched.activation == "relu" else "saturated_fraction"
                entry[key] = fraction
            entries.append(entry)
        self._before = now
        self.durations.append(time.perf_counter() - started)
        return entries


def _watched_layers(model: keras.Model, resolution: Resolution) -> list[_Watched]:
    layers = list(resolution.spec.model.layers or [])
    watched = []
    for index, spec_layer in enumerate(layers):
        keras_layer = model.get_layer(layer_name(index, spec_layer))
        if not keras_layer.trainable_weights:
            continue
        activation = getattr(spec_layer, "activation", None)
        output_of = keras_layer
        if activation == "leaky_relu":
            output_of = model.get_layer(f"{keras_layer.name}_leaky")
        if activation in (None, "linear") and index + 1 < len(layers):
            after = layers[index + 1]
            if after.type == "activation":
                activation = after.activation
                output_of = model.get_layer(layer_name(index + 1, after))
        if activation == "linear":
            activation = None
        watched.append(_Watched(index, keras_layer, spec_layer.type, activation, output_of))
    return watched


def _measures_units(activation: str | None) -> bool:
    return activation == "relu" or activation in RANGES


def _pairs(outputs: list[Any], watched: list[_Watched]) -> list[tuple[Any, str]]:
    measured = [w.activation for w in watched if _measures_units(w.activation)]
    return list(zip(outputs, measured, strict=True))


def _unit_stats(output: Any, activation: str) -> Any:
    """The share of dead (relu) or saturated (sigmoid, tanh) units of one layer's output."""
    units = tf.shape(output)[-1]
    values = tf.reshape(tf.cast(output, tf.float32), [tf.shape(output)[0], -1, units])
    if activation == "relu":
        dead = tf.reduce_all(values <= 0.0, axis=[0, 1])
        return tf.reduce_mean(tf.cast(dead, tf.float32))
    low, high = RANGES[activation]
    margin = SATURATION_MARGIN * (high - low)
    pinned = tf.logical_or(values <= low + margin, values >= high - margin)
    share = tf.reduce_mean(tf.cast(pinned, tf.float32), axis=[0, 1])  # rows x positions
    return tf.reduce_mean(tf.cast(share >= SATURATED_SHARE, tf.float32))


def _mean_loss(loss: Any) -> Any:
    """The compiled loss as a function of (y_true, y_pred) giving the sample's mean."""
    if isinstance(loss, keras.losses.Loss):
        return loss
    function = keras.losses.get(loss)
    if isinstance(function, keras.losses.Loss):
        return function
    return lambda y_true, y_pred: tf.reduce_mean(function(y_true, y_pred))


def _norm(arrays: list[np.ndarray]) -> float:
    return float(np.sqrt(sum(float(np.sum(np.square(a))) for a in arrays)))


def _update_ratio(now: list[np.ndarray], before: list[np.ndarray]) -> float | None:
    size = _norm(before)
    if size == 0:
        return None
    return _finite(_norm([a - b for a, b in zip(now, before, strict=True)]) / size)


def _finite(value: float) -> float | None:
    # NaN and inf are not JSON: a diverged layer's norms are recorded as null.
    return value if np.isfinite(value) else None
