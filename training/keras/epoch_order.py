"""The training rows, batch by batch, in a new order every epoch that the seed fixes.

Keras' own ``fit(shuffle=True)`` draws each epoch's order with the backend's random shuffle;
once the seed is set (``keras.utils.set_random_seed``), every epoch restarts that draw from the
same state and visits the rows in the very same order, so a seeded job was not shuffled between
epochs at all. Here epoch k's order is drawn from (seed, k) alone, not from any random state
that runs on: a new order every epoch, the same orders in every run with that seed, and the
same order for epoch k whether the fit started at 0 or was resumed at k from a checkpoint.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

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


def training_batches(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    *,
    seed: int,
    shuffle: bool,
    initial_epoch: int = 0,
) -> tf.data.Dataset:
    """The batches of epochs ``initial_epoch``, ``initial_epoch + 1``, ... back to back, without
    end: fit it with ``steps_per_epoch=steps_per_epoch(len(x), batch_size)``, which makes Keras
    read on from one iterator instead of restarting the data every epoch.

    Built like Keras' own pipeline for arrays (batches of indices gathered from the whole
    arrays, in parallel, prefetched), so it is as fast; only the order differs.
    """
    size = len(x)
    full = size // batch_size

    def orders() -> Iterator[np.ndarray]:
        for epoch in itertools.count(initial_epoch):
            yield epoch_order(size, seed, epoch, shuffle)

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
        orders, output_signature=tf.TensorSpec(shape=(size,), dtype=tf.int64)
    )
    # One epoch's order is computed ahead, so a new epoch never waits for its permutation.
    index_batches = indices.prefetch(1).flat_map(batches)
    # The arrays enter the pipeline once, as one element repeated, not as graph constants.
    arrays = tf.data.Dataset.from_tensors((x, y)).repeat()
    dataset = tf.data.Dataset.zip(index_batches, arrays).map(
        gather, num_parallel_calls=tf.data.AUTOTUNE
    )
    options = tf.data.Options()
    # As in Keras: the default graph rewrites cost more than they save on this pipeline.
    options.experimental_optimization.apply_default_optimizations = False
    return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)
