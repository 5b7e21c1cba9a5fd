"""The training rows, batch by batch, in a new order every epoch that the seed fixes.

Keras' own ``fit(shuffle=True)`` draws each epoch's order with the backend's random shuffle;
once the seed is set (``keras.utils.set_random_seed``), every epoch restarts that draw from the
same state and visits the rows in the very same order, so a seeded job was not shuffled between
epochs at all. Here epoch k's order is drawn from (seed, k) alone, not from any random state
that runs on: a new order every epoch, the same orders in every run with that seed, and the
same order for epoch k whether the fit started at 0 or was resumed at k from a checkpoint.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import keras
import numpy as np
import tensorflow as tf


def epoch_order(size: int, seed: int, epoch: int, shuffle: bool = True) -> np.ndarray:
    """The row indices in the order epoch ``epoch`` (0-based) trains on them."""
    if not shuffle:
        return np.arange(size, dtype=np.int64)
    # Each epoch is its own child stream of the seed (numpy's spawn_key), independent of the
    # stream the validation split draws from np.random.default_rng(seed).
    stream = np.random.SeedSequence(seed, spawn_key=(epoch,))
    return np.random.default_rng(stream).permutation(size).astype(np.int64)


def steps_per_epoch(size: int, batch_size: int) -> int:
    """Batches in one epoch; the last one holds the rows left over."""
    return math.ceil(size / batch_size)


class EpochBatches(keras.callbacks.Callback):
    """The batches of one epoch at a time, for ``fit(batches.dataset, ...)`` without
    ``steps_per_epoch``: the data set ends with the epoch, so an execution of several steps
    (``steps_per_execution``) never runs on into the next epoch's rows; the last execution of
    an epoch is simply shorter. As a callback it follows the fit's epoch, and each epoch's
    iterator (Keras makes a new one every epoch) draws that epoch's order.

    Built like Keras' own pipeline for arrays (batches of indices gathered from the whole
    arrays, in parallel, prefetched), so it is as fast; only the order differs.
    """

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        batch_size: int,
        *,
        seed: int,
        shuffle: bool,
        initial_epoch: int = 0,
    ) -> None:
        super().__init__()
        self.epoch = initial_epoch
        self.steps = steps_per_epoch(len(x), batch_size)
        self.dataset = self._dataset(x, y, batch_size, seed, shuffle)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch = epoch

    def _dataset(
        self, x: np.ndarray, y: np.ndarray, batch_size: int, seed: int, shuffle: bool
    ) -> tf.data.Dataset:
        size = len(x)
        full = size // batch_size

        def order() -> Iterator[np.ndarray]:
            yield epoch_order(size, seed, self.epoch, shuffle)

        def batches(order: tf.Tensor) -> tf.data.Dataset:
            rows = tf.data.Dataset.from_tensor_slices(
                tf.reshape(order[: full * batch_size], (full, batch_size))
            )
            if size % batch_size:
                rows = rows.concatenate(tf.data.Dataset.from_tensors(order[full * batch_size :]))
            return rows

        def gather(rows: tf.Tensor, arrays: tuple[tf.Tensor, tf.Tensor]) -> tuple[tf.Tensor, ...]:
            return tuple(tf.gather(array, rows) for array in arrays)

        indices = tf.data.Dataset.from_generator(
            order, output_signature=tf.TensorSpec(shape=(size,), dtype=tf.int64)
        )
        index_batches = indices.flat_map(batches)
        # The arrays enter the pipeline once, as one element repeated, not as graph constants
        # (a constant would copy them into the graph).
        arrays = tf.data.Dataset.from_tensors((x, y)).repeat()
        dataset = tf.data.Dataset.zip(index_batches, arrays).map(
            gather, num_parallel_calls=tf.data.AUTOTUNE
        )
        # Keras reads the number of batches from the data set's cardinality (progress events
        # say "step k of N" from it), which the generator hides.
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(self.steps))
        options = tf.data.Options()
        # As in Keras: the default graph rewrites cost more than they save on this pipeline.
        options.experimental_optimization.apply_default_optimizations = False
        return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)
