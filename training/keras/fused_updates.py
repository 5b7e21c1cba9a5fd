"""The optimizer's update of each weight as one TensorFlow kernel, where one computes Keras' own.

Keras writes an optimizer's update as a handful of element-wise operations per weight
(``update_step``): RMSprop squares the gradient, mixes it into its running mean, adds epsilon,
takes the square root, divides, multiplies by the rate and subtracts, each a separate pass over
the weight. On a CPU, for a dense model trained in batches of 32, those passes are most of a
step: the DLI MNIST model spends more time updating its 670,000 weights than computing their
gradients. TensorFlow's training kernels (``ResourceApplyRMSProp``, ``ResourceApplyAdam``,
``ResourceApplyKerasMomentum``, ...) compute the same update in one pass.

Only where the kernel's formula is Keras' own, term for term, is the update replaced; the
optimizer object, its variables (saved in checkpoints and in model.keras) and its
configuration stay Keras'. Weight decay, gradient clipping, loss scaling and schedules happen
outside ``update_step`` and are untouched. A model compiled with XLA (on a GPU) keeps Keras'
update: XLA fuses it itself. The numbers differ from Keras' only by the rounding of a different
evaluation order (tests/training/test_fused_updates.py compares them); the same
spec and seed still give the same history.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras
import tensorflow as tf

Update = Callable[[Any, Any, Any], None]  # (gradient, variable, learning_rate)


def fuse(model: keras.Model) -> bool:
    """Give a compiled model's optimizer fused updates where its settings allow (building it for
    the model's trainable weights); whether it did. Other optimizers (Adagrad, Nadam) keep
    Keras' update, and so does a model Keras compiles with XLA (on a GPU): XLA fuses the
    operations itself, and has no kernel for some of these (amsgrad's)."""
    if getattr(model, "jit_compile", False):
        return False
    return fuse_optimizer(model.optimizer, model.trainable_variables)


def fuse_optimizer(optimizer: keras.optimizers.Optimizer, variables: Sequence[Any]) -> bool:
    """``fuse`` for an optimizer and the weights it updates (built for them here)."""
    maker = _MAKERS.get(type(optimizer))
    if maker is None:
        return False
    optimizer.build(variables)
    update = maker(optimizer, variables)
    if update is None:
        return False
    keras_update = optimizer.update_step

    def update_step(gradient: Any, variable: Any, learning_rate: Any) -> None:
        if isinstance(gradient, tf.IndexedSlices) or variable.dtype != tf.float32:
            return keras_update(gradient, variable, learning_rate)  # sparse or mixed: Keras'
        return update(gradient, variable, learning_rate)

    update_step.fused = True  # type: ignore[attr-defined]
    optimizer.update_step = update_step  # this object only: the class and its config stay Keras'
    return True


def is_fused(optimizer: keras.optimizers.Optimizer) -> bool:
    """Whether ``fuse`` gave ``optimizer`` fused updates (a sparse or non-float32 gradient still
    takes Keras' update; Descent's layers make none)."""
    return bool(getattr(optimizer.update_step, "fused", False))


def _rmsprop(optimizer: Any, variables: Sequence[Any]) -> Update:
    # The kernel always keeps a momentum accumulator: without momentum it is overwritten with
    # the step each time (momentum 0), so a scratch variable nobody saves is enough (memory:
    # one more copy of the weights).
    scratch = (
        None
        if optimizer.momentum > 0
        else [tf.Variable(tf.zeros(v.shape, v.dtype), trainable=False) for v in variables]
    )

    def update(gradient: Any, variable: Any, learning_rate: Any) -> None:
        index = optimizer._get_variable_index(variable)
        momentum = scratch[index] if scratch else optimizer._momentums[index]
        arguments = {
            "var": variable.handle,
            "ms": optimizer._velocities[index].handle,
            "mom": momentum.handle,
            "lr": tf.cast(learning_rate, variable.dtype),
            "rho": tf.constant(optimizer.rho, variable.dtype),
            "momentum": tf.constant(optimizer.momentum, variable.dtype),
            "epsilon": tf.constant(optimizer.epsilon, variable.dtype),
            "grad": tf.cast(gradient, variable.dtype),
        }
        if optimizer.centered:
            mg = optimizer._average_gradients[index].handle
            tf.raw_ops.ResourceApplyCenteredRMSProp(mg=mg, **arguments)
        else:
            tf.raw_ops.ResourceApplyRMSProp(**arguments)

    return update


def _adam(optimizer: Any, variables: Sequence[Any]) -> Update:
    def update(gradient: Any, variable: Any, learning_rate: Any) -> None:
        index = optimizer._get_variable_index(variable)
        dtype = variable.dtype
        step = tf.cast(optimizer.iterations + 1, dtype)
        arguments = {
            "var": variable.handle,
            "m": optimizer._momentums[index].handle,
            "v": optimizer._velocities[index].handle,
            "beta1_power": tf.pow(tf.constant(optimizer.beta_1, dtype), step),
            "beta2_power": tf.pow(tf.constant(optimizer.beta_2, dtype), step),
            "lr": tf.cast(learning_rate, dtype),
            "beta1": tf.constant(optimizer.beta_1, dtype),
            "beta2": tf.constant(optimizer.beta_2, dtype),
            "epsilon": tf.constant(optimizer.epsilon, dtype),
            "grad": tf.cast(gradient, dtype),
        }
        if optimizer.amsgrad:
            vhat = optimizer._velocity_hats[index].handle
            tf.raw_ops.ResourceApplyAdamWithAmsgrad(vhat=vhat, **arguments)
        else:
            tf.raw_ops.ResourceApplyAdam(**arguments)

    return update


def _sgd(optimizer: Any, variables: Sequence[Any]) -> Update | None:
    if optimizer.momentum == 0:
        return None  # Keras' update is already a single multiply-subtract

    def update(gradient: Any, variable: Any, learning_rate: Any) -> None:
        index = optimizer._get_variable_index(variable)
        tf.raw_ops.ResourceApplyKerasMomentum(
            var=variable.handle,
            accum=optimizer.momentums[index].handle,
            lr=tf.cast(learning_rate, variable.dtype),
            grad=tf.cast(gradient, variable.dtype),
            momentum=tf.constant(optimizer.momentum, variable.dtype),
            use_nesterov=optimizer.nesterov,
        )

    return update


# Exact classes: a subclass may change the formula. AdamW is Adam's update plus weight decay,
# which Keras applies before update_step.
_MAKERS: dict[type, Callable[[Any, Sequence[Any]], Update | None]] = {
    keras.optimizers.RMSprop: _rmsprop,
    keras.optimizers.Adam: _adam,
    keras.optimizers.AdamW: _adam,
    keras.optimizers.SGD: _sgd,
}
