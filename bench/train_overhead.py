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

The ratio service ÷ plain is what the service costs, or saves: owning the whole fit loop, it
runs several steps per execution and evaluates in large batches, which a script with Keras'
defaults does not (issue #14's target: ≤ 0.6 on the two examples below).

With ``--example`` the spec is an example file and the plain script is generated from its
layers, optimizer, epochs and batch size, with Keras' defaults for everything else, as a learner
writes it (no seed: the learner sets none; compare accuracies to a few tenths of a point).

Run from the repository root (one service and one training at a time; the machine is small)::

    .venv/bin/python bench/train_overhead.py --example examples/mnist-dense.yaml --repeat 3
    .venv/bin/python bench/train_overhead.py --example examples/asl-cnn.yaml --repeat 3
    .venv/bin/python bench/train_overhead.py                 # full MNIST, preset dense, adam
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.settings import PROJECT_ROOT as ROOT  # noqa: E402
from tests import factories  # noqa: E402
from tests.harness import Service, start_service, stop_service  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from queue_latency import recorded_times  # noqa: E402

DATA_FILES = {"mnist": "mnist.npz", "asl": "sign_mnist.npz"}
POLL_SECONDS = 0.2

# The hand-written script. Its hyperparameters match the spec built by ``job_spec``.
PLAIN_SCRIPT = """\
import json, time
import numpy as np
import keras

DATA = {data!r}
EPOCHS, BATCH_SIZE, LIMIT, PRESET = {epochs!r}, {batch_size!r}, {limit!r}, {preset!r}

SPEC_LAYERS, OPTIMIZER = {layers!r}, {optimizer!r}
AUGMENTATION, PLATEAU, STOPPING = {augmentation!r}, {plateau!r}, {stopping!r}

with np.load(DATA) as f:
    x_train, y_train = f["x_train"][:LIMIT], f["y_train"][:LIMIT]
    x_test, y_test = f["x_test"], f["y_test"]
x_train = x_train.reshape(-1, 28, 28, 1).astype("float32") / 255
x_test = x_test.reshape(-1, 28, 28, 1).astype("float32") / 255
classes = np.unique(np.concatenate([y_train, y_test]))  # ASL has no J (9) and no Z
y_train = keras.utils.to_categorical(np.searchsorted(classes, y_train), len(classes))
y_test = keras.utils.to_categorical(np.searchsorted(classes, y_test), len(classes))

if SPEC_LAYERS:
    kinds = {{"flatten": "Flatten", "dense": "Dense", "conv2d": "Conv2D",
             "max_pool2d": "MaxPooling2D", "dropout": "Dropout",
             "batch_norm": "BatchNormalization"}}
    layers = []
    for layer in SPEC_LAYERS:
        layer = dict(layer)
        layers.append(getattr(keras.layers, kinds[layer.pop("type")])(**layer))
    layers = layers[:-1]  # the output layer is added below
elif PRESET == "dense":
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
if AUGMENTATION:  # the lesson's augmentation, as preprocessing layers (active in fit only)
    a = AUGMENTATION
    layers = [
        keras.layers.RandomRotation(a.get("rotation", 0) / 360),
        keras.layers.RandomZoom(a.get("zoom", 0)),
        keras.layers.RandomTranslation(a.get("translation", 0), a.get("translation", 0)),
        *layers,
    ]
callbacks = []
if PLATEAU:
    callbacks.append(keras.callbacks.ReduceLROnPlateau(**PLATEAU))
if STOPPING:
    callbacks.append(keras.callbacks.EarlyStopping(**STOPPING))
output = keras.layers.Dense(len(classes), activation="softmax")
model = keras.Sequential([keras.Input(shape=(28, 28, 1)), *layers, output])
optimizers = {{"adam": keras.optimizers.Adam, "rmsprop": keras.optimizers.RMSprop}}
model.compile(
    optimizer=optimizers[OPTIMIZER["name"]](learning_rate=OPTIMIZER["learning_rate"]),
    loss="categorical_crossentropy",
    metrics=["accuracy"],
)
started = time.perf_counter()
history = model.fit(
    x_train, y_train, batch_size=BATCH_SIZE, epochs=EPOCHS,
    validation_data=(x_test, y_test), verbose=2, callbacks=callbacks,
)
fit_seconds = time.perf_counter() - started
model.save("model.keras")
val_accuracy = model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]
print(json.dumps({{"val_accuracy": val_accuracy, "fit_seconds": fit_seconds}}))
"""


@dataclass
class Run:
    seconds: float  # what the user waits for
    fit_seconds: float  # of which training epochs 1..N (model.fit)
    val_accuracy: float
    execution: dict[str, Any] | None = None  # the service's steps per execution, XLA
    parts: dict[str, float] | None = None  # the service's time, part by part


def job_spec(dataset: str, preset: str, epochs: int, limit: int | None) -> dict[str, Any]:
    return factories.job_spec(
        name=f"bench-{dataset}-{preset}", dataset=dataset, limit=limit, validation="test",
        model={"preset": preset, "activation": "relu"}, loss="categorical_crossentropy",
        optimizer={"name": "adam", "learning_rate": 0.001}, epochs=epochs, batch_size=32,
    )  # fmt: skip


def example_spec(path: Path, epochs: int | None, limit: int | None) -> dict[str, Any]:
    """An example file's spec (optionally fewer epochs or rows); the bench needs its layers
    listed (no preset), a softmax output layer, and adam or rmsprop at a plain rate."""
    import yaml

    spec = yaml.safe_load(path.read_text())
    if epochs is not None:
        spec["epochs"] = epochs
    if limit is not None:
        spec["dataset"]["limit"] = limit
    return spec


def run_plain(spec: dict[str, Any]) -> Run:
    """Write the hand-written script for ``spec`` to a temp folder and time it as a subprocess."""
    dataset = spec["dataset"]["name"]
    source = PLAIN_SCRIPT.format(
        epochs=spec["epochs"],
        batch_size=spec["batch_size"],
        limit=spec["dataset"].get("limit"),
        preset=spec["model"].get("preset"),
        layers=spec["model"].get("layers"),
        optimizer=spec["optimizer"],
        augmentation=spec.get("augmentation"),
        plateau=spec.get("reduce_on_plateau"),
        stopping=spec.get("early_stopping"),
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
    summary = service.client.get(f"/v1/jobs/{job['id']}").json().get("summary") or {}
    execution = summary.get("execution") or _execution_from_db(service, job["id"])
    to_running, finishing = recorded_times(service, job["id"])
    epoch0 = sum(row["seconds"] for row in history if row["epoch"] == 0)
    parts = {
        "submit → running": to_running,
        "epoch 0 (untrained, evaluated)": epoch0,
        "epochs 1..N": fit_seconds,
        "last epoch → succeeded (export, check, upload)": finishing or 0.0,
    }
    parts["the rest (data, model build, epoch writes, polling)"] = seconds - sum(parts.values())
    return Run(seconds, fit_seconds, job["final_metrics"]["val_accuracy"], execution, parts)


def _execution_from_db(service: Service, job_id: str) -> dict[str, Any] | None:
    """The job's ``summary.execution`` read from the service's database (the API's job schema
    may not list it)."""
    from models.db import session_scope
    from services import jobs

    with session_scope(service.settings.resolved_database_url) as session:
        return (jobs.get(session, job_id).summary or {}).get("execution")


def _median(runs: list[Run], field: str) -> float:
    return statistics.median(getattr(run, field) for run in runs)


def report(spec: dict[str, Any], plain: list[Run], service: list[Run]) -> None:
    limit = spec["dataset"].get("limit") or "all"
    model = spec.get("name") or f"preset {spec['model'].get('preset')}"
    print(
        f"\n{spec['dataset']['name']}, {model}, {spec['epochs']} epochs, "
        f"batch {spec['batch_size']}, train rows {limit}, median of {len(plain)} run(s)\n"
    )
    print(f"{'':10} {'total s':>9} {'fit s':>8} {'other s':>8} {'val_accuracy':>13}")
    execution = service[-1].execution if service else None
    for name, runs in (("plain", plain), ("service", service)):
        total, fit = _median(runs, "seconds"), _median(runs, "fit_seconds")
        accuracy = _median(runs, "val_accuracy")
        print(f"{name:10} {total:9.1f} {fit:8.1f} {total - fit:8.1f} {accuracy:13.4f}")
    ratio = _median(service, "seconds") / _median(plain, "seconds")
    print(f"\nratio service / plain (total): {ratio:.2f}")
    accuracy_gap = 100 * (_median(service, "val_accuracy") - _median(plain, "val_accuracy"))
    print(f"val_accuracy service - plain: {accuracy_gap:+.2f} points")
    print(f"the service's execution (job summary): {execution}")
    print("where the service's time went (median of each part):")
    for part in service[0].parts or {}:
        value = statistics.median((run.parts or {}).get(part, 0.0) for run in service)
        print(f"  {part:52} {value:7.2f} s")
    print("fit s: model.fit epochs 1..N; other s: imports, data, epoch 0, queueing, export, save")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--example", type=Path, help="a spec file, e.g. examples/asl-cnn.yaml")
    parser.add_argument("--epochs", type=int, default=None, help="default: the example's, or 2")
    parser.add_argument("--limit", type=int, default=None, help="train on the first N rows")
    parser.add_argument("--repeat", type=int, default=1, help="runs per side; medians reported")
    parser.add_argument("--dataset", choices=sorted(DATA_FILES), default="mnist")
    parser.add_argument("--preset", choices=("dense", "cnn"), default="dense")
    args = parser.parse_args()
    if args.example:
        spec = example_spec(args.example, args.epochs, args.limit)
    else:
        spec = job_spec(args.dataset, args.preset, args.epochs or 2, args.limit)

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
