"""Where a training step's time goes: the forward pass, the gradients, the optimizer's update.

Builds a spec's model on its real data exactly as a job does (``training.keras.fit.set_up``) and
times, per step of ``batch_size`` rows, in one compiled loop of ``--steps`` steps (no Python,
no callbacks, no data pipeline between steps):

forward
    the model's training-mode forward pass and the loss;
+ gradients
    the same and the gradients of every weight;
+ Keras' update
    a whole step with the optimizer as Keras writes it (one small operation at a time);
+ fused update
    a whole step with the optimizer as a job runs it (training/keras/fused_updates.py: one
    TensorFlow kernel per weight where one computes Keras' formula).

The variants alternate ``--repeat`` times and the medians are printed with each part's share of
the whole step, so the load of a shared machine hits them alike. On the DLI MNIST model the
update is most of a step, which is why a job fuses it.

    .venv/bin/python bench/step_profile.py                              # DLI MNIST dense
    .venv/bin/python bench/step_profile.py --example examples/asl-cnn.yaml --steps 100
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import yaml  # noqa: E402

from core.settings import PROJECT_ROOT  # noqa: E402
from training.spec import JobSpec  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--example", type=Path, default=PROJECT_ROOT / "examples/mnist-dense.yaml")
    parser.add_argument("--steps", type=int, default=400, help="steps per timed loop")
    parser.add_argument("--repeat", type=int, default=5, help="timed loops per variant")
    args = parser.parse_args()

    import keras
    import tensorflow as tf

    from training.keras.builders import build_optimizer
    from training.keras.fit import set_up
    from training.keras.fused_updates import is_fused

    spec = JobSpec.model_validate(yaml.safe_load(args.example.read_text()))
    with tempfile.TemporaryDirectory(prefix="descent-profile-") as cache:
        _, data, _, trainer = set_up(spec, PROJECT_ROOT / "data", None, Path(cache))
    batch = spec.batch_size
    rows = min(len(data.x_train), args.steps * batch)
    steps = rows // batch
    x, y = tf.constant(data.x_train[: steps * batch]), tf.constant(data.y_train[: steps * batch])
    weights = trainer.trainable_variables
    fused = trainer.optimizer
    plain = build_optimizer(spec.optimizer)
    plain.build(weights)

    def loop(step: Callable[[tf.Tensor, tf.Tensor], tf.Tensor]) -> Callable[[], float]:
        @tf.function
        def run() -> tf.Tensor:
            total = tf.constant(0.0)
            for i in tf.range(steps):
                total += step(x[i * batch : (i + 1) * batch], y[i * batch : (i + 1) * batch])
            return total

        run()  # trace and warm up

        def timed() -> float:
            started = time.perf_counter()
            run().numpy()
            return (time.perf_counter() - started) / steps * 1000

        return timed

    loss_fn = keras.losses.get(trainer.loss)  # the job's loss, as compiled

    def loss(xb: tf.Tensor, yb: tf.Tensor) -> tf.Tensor:
        return tf.reduce_mean(loss_fn(yb, trainer(xb, training=True)))

    def gradients(xb: tf.Tensor, yb: tf.Tensor) -> tuple[tf.Tensor, list[tf.Tensor]]:
        with tf.GradientTape() as tape:
            value = loss(xb, yb)
        return value, tape.gradient(value, weights)

    def with_gradients(xb: tf.Tensor, yb: tf.Tensor) -> tf.Tensor:
        value, grads = gradients(xb, yb)  # every gradient is used: none is pruned away
        return value + tf.add_n([tf.reduce_sum(g[:1]) for g in grads]) * 0.0

    def updating(optimizer: keras.optimizers.Optimizer) -> Callable[..., tf.Tensor]:
        def step(xb: tf.Tensor, yb: tf.Tensor) -> tf.Tensor:
            value, grads = gradients(xb, yb)
            optimizer.apply(grads, weights)
            return value

        return step

    variants = {
        "forward": loop(loss),
        "+ gradients": loop(with_gradients),
        "+ Keras' update": loop(updating(plain)),
        "+ fused update": loop(updating(fused)),
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    load_before = os.getloadavg()[0]
    for _ in range(args.repeat):
        for name, timed in variants.items():
            times[name].append(timed())
    load_after = os.getloadavg()[0]

    median = {name: statistics.median(values) for name, values in times.items()}
    print(
        f"\n{spec.name or args.example.name}: {trainer.count_params():,} parameters, batches of "
        f"{batch}, {steps} steps a loop, median of {args.repeat}; optimizer {spec.optimizer.name}"
        f" (fused: {is_fused(fused)})\n"
    )
    print(f"{'':18} {'ms/step':>8}")
    for name, value in median.items():
        print(f"{name:18} {value:8.2f}")
    keras_step, fused_step = median["+ Keras' update"], median["+ fused update"]
    gradient_step = median["+ gradients"]
    print(
        f"\nKeras' update: {keras_step - gradient_step:.2f} ms "
        f"({(keras_step - gradient_step) / keras_step:.0%} of its step); fused: "
        f"{fused_step - gradient_step:.2f} ms ({(fused_step - gradient_step) / fused_step:.0%})"
        f"\nstep, fused ÷ Keras': {fused_step / keras_step:.2f}"
    )
    print(f"load average (1 min) before {load_before:.1f}, after {load_after:.1f}")


if __name__ == "__main__":
    main()
