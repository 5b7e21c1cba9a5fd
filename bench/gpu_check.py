"""Prove the GPU path on a machine with an NVIDIA GPU (not run in CI: no GPU there).

Starts, in a temporary home, the API alone (``descent serve --no-worker``), a GPU worker
(``descent worker --gpus 1``: queues gpu and any, pinned to GPU 0) and a CPU worker
(``descent worker --queues cpu``: it cannot see the GPU). Then trains one spec three ways and
prints, for each, the device the job recorded, its training seconds (the sum of its epochs) and
its final validation accuracy, and the speed-up of the GPU over the CPU:

- ``gpu``: resources.accelerator gpu, float32 — must record device gpu:0;
- ``gpu-mixed``: the same with precision mixed_float16 — must succeed, on gpu:0, and export;
- ``cpu``: resources.accelerator cpu — must record device cpu.

It then prints the GPU ÷ CPU speed-up (training seconds, float32), the speed-up of mixed
precision over float32 on the GPU, and whether mixed precision changed what was learned: the
difference in final validation accuracy (points) and each job's ONNX export check (the largest
difference between the ONNX model's and Keras' outputs on real inputs; mixed_float16 computes
in float16, the ONNX model in float32, so the two differ more than under float32). It fails if
the mixed-precision model's check exceeds ``--max-export-diff``. It also prints what each job
recorded about its execution (steps per execution, XLA): on a GPU, Keras compiles with XLA.

    .venv/bin/python bench/gpu_check.py                    # CNN on 20 000 MNIST rows, 3 epochs
    .venv/bin/python bench/gpu_check.py --limit 60000 --epochs 5 --batch-size 256

Exits non-zero if a job fails or lands on the wrong device. Needs the ``gpu`` extra
(``scripts/bootstrap gpu,dev``) and ``nvidia-smi`` on the PATH.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.statuses import FINISHED  # noqa: E402
from tests.factories import job_spec  # noqa: E402
from tests.harness import free_port  # noqa: E402
from workers.devices import count_gpus  # noqa: E402


def spec(args: argparse.Namespace, accelerator: str, precision: str) -> dict:
    return job_spec(
        name=f"{accelerator}-{precision}", limit=args.limit, validation=None, preset="cnn",
        epochs=args.epochs, batch_size=args.batch_size, resources={"accelerator": accelerator},
        precision=precision,
    )  # fmt: skip


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "descent.cli", *command], cwd=ROOT, env=env, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def wait(client: httpx.Client, job_id: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in FINISHED:
            return job
        time.sleep(1)
    raise TimeoutError(f"job {job_id} did not finish in {timeout}s")


def recorded_execution(home: Path, job_id: str) -> dict | None:
    """What the job recorded about its execution (``summary.execution`` in its record)."""
    from core.settings import Settings
    from models.db import session_scope
    from services import jobs

    with session_scope(Settings(home=home).resolved_database_url) as session:
        return (jobs.get(session, job_id).summary or {}).get("execution")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument(
        "--max-export-diff",
        type=float,
        default=1e-2,
        help="the largest ONNX-vs-Keras output difference accepted for the mixed-precision model",
    )
    args = parser.parse_args()
    if count_gpus() == 0:
        print("no NVIDIA GPU found (nvidia-smi -L lists none); nothing to prove here")
        return 2

    home = Path(tempfile.mkdtemp(prefix="descent-gpu-check-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESCENT_")}
    env |= {"DESCENT_HOME": str(home), "DESCENT_GPU_QUEUES_AVAILABLE": "true",
            "TF_CPP_MIN_LOG_LEVEL": "2"}  # fmt: skip
    processes = [
        start(["serve", "--no-worker", "--port", str(port)], env, home / "api.log"),
        start(["worker", "--gpus", "1", "--name", "gpu"], env, home / "gpu.log"),
        start(["worker", "--queues", "cpu", "--name", "cpu"], env, home / "cpu.log"),
    ]
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
    failures: list[str] = []
    try:
        for _ in range(120):
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        runs = [
            ("gpu", "float32", "gpu:0"),
            ("gpu", "mixed_float16", "gpu:0"),
            ("cpu", "float32", "cpu"),
        ]
        seconds: dict[str, float] = {}
        accuracies: dict[str, float] = {}
        export_diffs: dict[str, float | None] = {}
        for accelerator, precision, device in runs:
            job = client.post("/v1/jobs", json=spec(args, accelerator, precision)).json()
            job = wait(client, job["id"], args.timeout)
            history = client.get(f"/v1/jobs/{job['id']}/history").json()["epochs"]
            fit = sum(row.get("seconds") or 0 for row in history)
            seconds[job["name"]] = fit
            accuracy = (job.get("final_metrics") or {}).get("val_accuracy")
            if accuracy is not None:
                accuracies[job["name"]] = accuracy
            check: dict = {}
            if job.get("model_id"):
                model = client.get(f"/v1/models/{job['model_id']}").json()
                check = model.get("export_check") or {}
            export_diffs[job["name"]] = check.get("max_abs_diff")
            execution = recorded_execution(home, job["id"])
            print(f"{job['name']:>20}: {job['status']}, device {job['device']}, worker "
                  f"{job['worker']}, fit {fit:.1f} s, val_accuracy {accuracy}, "
                  f"ONNX check max_abs_diff {check.get('max_abs_diff')}, "
                  f"execution {execution}")  # fmt: skip
            if job["status"] != "succeeded":
                failures.append(f"{job['name']} {job['status']}: {job.get('error')}")
            elif job["device"] != device:
                failures.append(f"{job['name']} trained on {job['device']}, not {device}")
        if seconds.get("gpu-float32") and seconds.get("cpu-float32"):
            cpu, gpu = seconds["cpu-float32"], seconds["gpu-float32"]
            print(f"speed-up gpu over cpu (float32): {cpu / gpu:.1f}x")
            if seconds.get("gpu-mixed_float16"):
                print(f"speed-up mixed_float16 over float32 on gpu: "
                      f"{gpu / seconds['gpu-mixed_float16']:.2f}x")  # fmt: skip
        if "gpu-float32" in accuracies and "gpu-mixed_float16" in accuracies:
            points = 100 * (accuracies["gpu-mixed_float16"] - accuracies["gpu-float32"])
            print(f"mixed_float16 - float32 val_accuracy on gpu: {points:+.2f} points")
        mixed_diff = export_diffs.get("gpu-mixed_float16")
        print(f"ONNX export check max_abs_diff: float32 {export_diffs.get('gpu-float32')}, "
              f"mixed_float16 {mixed_diff}")  # fmt: skip
        if mixed_diff is not None and mixed_diff > args.max_export_diff:
            failures.append(
                f"the mixed-precision model's ONNX export differs by {mixed_diff} "
                f"(> {args.max_export_diff})"
            )
    finally:
        client.close()
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(60)
    for failure in failures:
        print("FAILED:", failure)
    print(f"logs: {home}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
