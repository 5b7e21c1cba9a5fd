"""One seed fixes initial weights, the validation split, shuffling, dropout and augmentation."""

from __future__ import annotations

import keras
import tensorflow as tf

_deterministic = False


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and the backend; make CPU ops deterministic.

    Op determinism makes the same spec and seed give the same epoch history, bit for bit, on
    the same CPU. It is not turned on where a GPU is visible: some GPU kernels have no
    deterministic version and would fail, and the others run slower; there the history may
    differ in the last digits from run to run.
    """
    global _deterministic
    keras.utils.set_random_seed(seed)
    if not _deterministic and not tf.config.list_physical_devices("GPU"):
        tf.config.experimental.enable_op_determinism()
        _deterministic = True
