"""What does recording layer health cost? The DLI MNIST spec trained with it and without.

Layer health (training/keras/health.py) is one forward and backward pass on 256 fixed training
rows at the end of each epoch, plus reading the weights back. This bench trains the lesson's
dense model (784 → 512 → 512 → 10 relu, RMSprop at 0.001, batches of 32, validating on the
test split: examples/mnist-dense.yaml) in this process, with the same seed, health on and off,
alternating (on, off, on, ...; ``--repeat`` runs of each), and prints:

- the epoch time (the history's ``seconds`` of epochs 1..N, where the measurement is made) with
  and without, as medians, and their ratio on ÷ off (issue #15's target: ≤ 1.05);
- the health time share: the median measurement's seconds over the median epoch's (the first
  measurement, at epoch 0, warms up and is reported apart), and the ratio it makes
  within the runs with health, epoch ÷ (epoch − health): on a shared machine the on ÷ off
  ratio swings with the load by more than health costs, and this one does not;
- that both runs learned the same numbers (health draws nothing from the fit's randomness).

Run from the repository root (one training at a time; the machine is small)::

    .venv/bin/python bench/health_cost.py                      # 60,000 rows, 2 epochs
    .venv/bin/python bench/health_cost.py --rows 20000 --repeat 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.settings import PROJECT_ROOT as ROOT  # noqa: E402
from training.spec import JobSpec  # noqa: E402


def dli_spec(rows: int | None, epochs: int) -> JobSpec:
    dataset: dict[str, Any] = {"name": "mnist", "validation": "test"}
    if rows is not None:
        dataset["limit"] = rows
    dense = [{"type": "dense", "units": 512, "activation": "relu"}] * 2
    return JobSpec.model_validate(
        {
            "name": "dli-mnist-dense",
            "dataset": dataset,
            "model": {
                "layers": [
                    {"type": "flatten"},
                    *dense,
                    {"type": "dense", "units": 10, "activation": "softmax"},
                ]
            },
            "loss": "categorical_crossentropy",
            "optimizer": {"name": "rmsprop", "learning_rate": 0.001},
            "epochs": epochs,
            "batch_size": 32,
            "seed": 0,
        }
    )


def run(spec: JobSpec, health: bool) -> dict[str, Any]:
    from training.keras.fit import train

    result = train(spec, ROOT / "data", lambda *_: None, health=health)
    epochs = [row for row in result.history if row["epoch"] > 0]
    learned = [
        {k: v for k, v in row.items() if k not in ("seconds", "health")} for row in result.history
    ]
    durations = result.health.durations if result.health else []
    return {
        "epoch_seconds": [row["seconds"] for row in epochs],
        "first_measure": durations[0] if durations else None,
        "measures": durations[1:],
        "learned": learned,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=None, help="training rows (default: all)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each, alternating")
    args = parser.parse_args()
    spec = dli_spec(args.rows, args.epochs)
    on: list[dict[str, Any]] = []
    off: list[dict[str, Any]] = []
    for _ in range(args.repeat):
        on.append(run(spec, health=True))
        off.append(run(spec, health=False))

    with_health = statistics.median(s for r in on for s in r["epoch_seconds"])
    without = statistics.median(s for r in off for s in r["epoch_seconds"])
    measure = statistics.median(s for r in on for s in r["measures"])
    first = statistics.median(r["first_measure"] for r in on)
    same = all(a["learned"] == b["learned"] for a, b in zip(on, off, strict=True))
    print(f"DLI MNIST dense, {args.rows or 'all'} rows, {args.epochs} epochs, x{args.repeat}")
    print(f"load average            {os.getloadavg()[0]:.2f}")
    print(f"epoch, health on        {with_health:.3f} s")
    print(f"epoch, health off       {without:.3f} s")
    print(f"ratio on / off          {with_health / without:.4f}")
    print(f"health per epoch        {measure * 1000:.1f} ms ({measure / with_health:.2%} of it)")
    print(f"ratio within 'on' runs  {with_health / (with_health - measure):.4f}")
    print(f"health at epoch 0       {first * 1000:.1f} ms (the first: kernels warm up)")
    print(f"same history            {same}")


if __name__ == "__main__":
    main()
