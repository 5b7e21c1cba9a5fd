"""How much longer does a user wait for a model trained through Descent than by hand?

One training spec runs two ways, in the same run, on the same data and machine:

plain
    The Keras script a user would write by hand (load the .npz with numpy, scale to [0, 1],
    one-hot labels, build, compile, ``fit`` with ``validation_data``, ``model.save``), written
    to a temporary file and run as a subprocess of this Python. Measured: the subprocess's
    wall time, so importing TensorFlow counts, as it does for the user.

service
    The same spec POSTed to a ``descent serve`` (API + one Celery worker) started in a
    temporary home on a free port. The service is started and its worker child has imported
    Keras before the clock starts, as it would have on a running server. Measured: from
    ``POST /v1/jobs`` until ``GET /v1/jobs/{id}`` says ``succeeded`` (polled every 0.2 s),
    i.e. queueing, the epoch-0 evaluation of the untrained model, training, the per-epoch
    writes to the database, and the export to .keras and .onnx with its ONNX-vs-Keras check.

Both sides run in one invocation, alternating (plain, service, plain, ...; the idle service
waits while the plain script runs) and ``--repeat`` reports medians. The machine's load average
is printed too: on a shared machine, compare only runs made at similar load.

The ratio service ÷ plain is the price of the service: it should stay close to 1 for a
realistic job, because the fixed costs (import, queueing, export) are paid once per job.

Run from the repository root (one service and one training at a time; the machine is small)::

    .venv/bin/python bench/train_overhead.py                 # full MNIST, dense, 2 epochs
    .venv/bin/python bench/train_overhead.py --epochs 5 --repeat 3
    .venv/bin/python bench/train_overhead.py --limit 5000 --preset cnn
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.settings import PROJECT_ROOT as ROOT
from tests import factories
from tests.harness import Service, start_service, stop_service

DATA_FILES = {"mnist": "mnist.npz", "asl": "sign_mnist.npz"}
POLL_SECONDS = 0.2

# The hand-written script. Its hyperparameters match the spec built by ``job_spec``.
PLAIN_SCRIPT = """\
import json, time
import numpy as np
import keras

DATA = {data!r}
EPOCHS, BATCH_SIZE, LIMIT, PRESET = {epochs!r}, {batch_size!r}, {limit!r}, {preset!r}

with np.load(DATA) as f:
    x_train, y_train = f["x_train"][:LIMIT], f["y_train"][:LIMIT]
    x_test, y_test = f["x_test"], f["y_test"]
x_train = x_train.reshape(-1, 28, 28, 1).astype("float32") / 255
x_test = x_test.reshape(-1, 28, 28, 1).astype("float32") / 255
classes = np.unique(np.concatenate([y_train, y_test]))  # ASL has no J (9) and no Z
y_train = keras.utils.to_categorical(np.searchsorted(classes, y_train), len(classes))
y_test = keras.utils.to_categorical(np.searchsorted(classes, y_test), len(classes))

if PRESET == "dense":
    layers = [
        keras.layers.Flatten(),
        keras.layers.Dense(512, activation="relu"),
        keras.layers.Dense(512, activation="relu"),
    ]
else:
    layers = [
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(64, 3, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.25),
        keras.layers.Dense(128, activation="relu"),
    ]
output = keras.layers.Dense(len(classes), activation="softmax")
model = keras.Sequential([keras.Input(shape=(28, 28, 1)), *layers, output])
model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=0.001),
    loss="categorical_crossentropy",
    metrics=["accuracy"],
)
started = time.perf_counter()
history = model.fit(
    x_train, y_train, batch_size=BATCH_SIZE, epochs=EPOCHS,
    validation_data=(x_test, y_test), verbose=2,
)
fit_seconds = time.perf_counter() - started
model.save("model.keras")
val_accuracy = history.history["val_accuracy"][-1]
print(json.dumps({{"val_accuracy": val_accuracy, "fit_seconds": fit_seconds}}))
"""


@dataclass
class Run:
    seconds: float  # what the user waits for
    fit_seconds: float  # of which training epochs 1..N (model.fit)
    val_accuracy: float


def job_spec(dataset: str, preset: str, epochs: int, limit: int | None) -> dict[str, Any]:
    return factories.job_spec(
        name=f"bench-{dataset}-{preset}", dataset=dataset, limit=limit, validation="test",
        model={"preset": preset, "activation": "relu"}, loss="categorical_crossentropy",
        optimizer={"name": "adam", "learning_rate": 0.001}, epochs=epochs, batch_size=32,
    )  # fmt: skip


def run_plain(spec: dict[str, Any]) -> Run:
    """Write the hand-written script for ``spec`` to a temp folder and time it as a subprocess."""
    dataset = spec["dataset"]["name"]
    source = PLAIN_SCRIPT.format(
        epochs=spec["epochs"],
        batch_size=spec["batch_size"],
        limit=spec["dataset"].get("limit"),
        preset=spec["model"]["preset"],
        data=str(ROOT / "data" / DATA_FILES[dataset]),
    )
    with tempfile.TemporaryDirectory(prefix="descent-plain-") as folder:
        script = Path(folder) / "train.py"
        script.write_text(source)
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, str(script)], cwd=folder, env=env, capture_output=True, text=True
        )
        seconds = time.perf_counter() - started
        if done.returncode != 0 or not (Path(folder) / "model.keras").is_file():
            sys.exit(f"the plain script failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return Run(seconds, result["fit_seconds"], result["val_accuracy"])


def run_service(service: Service, spec: dict[str, Any], jobs_done: int) -> Run:
    """POST the spec once the next worker child is warm; time it until the job has succeeded."""
    # Each job runs in a fresh pool child; the next one must have imported Keras, as it would
    # have long before on a server that is up and idle.
    service.wait_for_warm_worker(count=jobs_done + 1)
    started = time.perf_counter()
    response = service.client.post("/v1/jobs", json=spec)
    response.raise_for_status()
    job = service.wait_for_job(response.json()["id"], timeout=24 * 3600, poll=POLL_SECONDS)
    seconds = time.perf_counter() - started
    if job["status"] != "succeeded":
        sys.exit(f"the service job {job['id']} ended {job['status']}: {job.get('error')}")
    history = service.client.get(f"/v1/jobs/{job['id']}/history").json()["epochs"]
    fit_seconds = sum(row["seconds"] for row in history if row["epoch"] >= 1)
    # The finished child is replaced by a fresh one that imports Keras: let it, before anything
    # else is timed on this machine.
    service.wait_for_warm_worker(count=jobs_done + 2)
    return Run(seconds, fit_seconds, job["final_metrics"]["val_accuracy"])


def _median(runs: list[Run], field: str) -> float:
    return statistics.median(getattr(run, field) for run in runs)


def report(spec: dict[str, Any], plain: list[Run], service: list[Run]) -> None:
    limit = spec["dataset"].get("limit") or "all"
    print(
        f"\n{spec['dataset']['name']}, preset {spec['model']['preset']}, {spec['epochs']} epochs, "
        f"batch {spec['batch_size']}, train rows {limit}, median of {len(plain)} run(s)\n"
    )
    print(f"{'':10} {'total s':>9} {'fit s':>8} {'other s':>8} {'val_accuracy':>13}")
    for name, runs in (("plain", plain), ("service", service)):
        total, fit = _median(runs, "seconds"), _median(runs, "fit_seconds")
        accuracy = _median(runs, "val_accuracy")
        print(f"{name:10} {total:9.1f} {fit:8.1f} {total - fit:8.1f} {accuracy:13.4f}")
    ratio = _median(service, "seconds") / _median(plain, "seconds")
    print(f"\nratio service / plain (total): {ratio:.2f}")
    print("fit s: model.fit epochs 1..N; other s: imports, data, epoch 0, queueing, export, save")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None, help="train on the first N rows")
    parser.add_argument("--repeat", type=int, default=1, help="runs per side; medians reported")
    parser.add_argument("--dataset", choices=sorted(DATA_FILES), default="mnist")
    parser.add_argument("--preset", choices=("dense", "cnn"), default="dense")
    args = parser.parse_args()
    spec = job_spec(args.dataset, args.preset, args.epochs, args.limit)

    # The service starts first and idles (a warm worker polling its queue costs ~1% of a core)
    # while the plain script runs; the two sides alternate so that a change in the machine's
    # load during the benchmark hits both alike.
    load_before = os.getloadavg()[0]
    plain: list[Run] = []
    service: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="descent-bench-") as home:
        running = start_service(Path(home))
        try:
            for i in range(args.repeat):
                plain.append(run_plain(spec))
                print(f"[plain {i + 1}/{args.repeat}] {plain[-1]}", file=sys.stderr)
                service.append(run_service(running, spec, jobs_done=i))
                print(f"[service {i + 1}/{args.repeat}] {service[-1]}", file=sys.stderr)
        finally:
            stop_service(running)
    load_after = os.getloadavg()[0]

    report(spec, plain, service)
    print(
        f"load average (1 min) before {load_before:.1f}, after {load_after:.1f}; "
        f"{os.cpu_count()} CPUs: compare runs made at similar load"
    )


if __name__ == "__main__":
    main()
