"""Prediction speed: ONNX Runtime in-process, Descent over HTTP, and the naive Keras endpoint.

A benchmark, not a test. In one run on this machine:

1. starts ``descent serve`` (API + worker, access log off; ``tests/harness.py``) in a fresh
   state directory and trains the README's classic model through it (dense 512-512-10 on
   MNIST; ``--limit`` rows, ``--epochs``);
2. (b) single images over loopback: latency p50/p99 and requests/s at concurrency 1 and 8;
3. (a, c) batches of 1,000 images, in alternating rounds so that both see the same background
   load: ONNX Runtime in this process (``serving.sessions.OnnxModel``, the API's own session
   settings) and Descent over HTTP (JSON and ``.npy``); then one image in-process;
4. (d) the naive baseline (bench/naive_app.py: FastAPI + Keras ``model.predict`` per request)
   on the downloaded ``.keras`` file, loaded the same way;
5. (e) the Open Inference Protocol v2 with binary tensors (what ``tritonclient`` sends): one
   image at concurrency 1 against Descent's own JSON route, and batches of 1,000 (FP32, the
   model's raw input, and UINT8 pixels) in the same alternating rounds as (a) and (c);

then prints every figure and the ratios. Besides wall-clock rates it reads the server's CPU
time per request from /proc, which says what the code costs whatever else shares the machine.
The load generator (bench/loadgen.py) is a keep-alive HTTP/1.1 client on raw sockets; every
load phase stops by itself after ``--seconds``.

    .venv/bin/python bench/predict.py [--seconds 5] [--limit 10000] [--epochs 1]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.loadgen import load, raw_post  # noqa: E402
from serving.sessions import OnnxModel  # noqa: E402
from tests.factories import job_spec  # noqa: E402
from tests.harness import Service, free_port, start_service, stop_service  # noqa: E402
from training.preprocessing import scale_pixels  # noqa: E402

BATCH = 1_000
ROUNDS = 3
SPEC = job_spec(
    name="bench-mnist-dense", limit=None, validation="test", units=(512, 512),
    loss="categorical_crossentropy", optimizer={"name": "adam", "learning_rate": 0.001},
    epochs=None, batch_size=32, seed=0,
)  # fmt: skip


# --- processes ------------------------------------------------------------------------------


def start_naive(keras_path: Path, log: Path) -> tuple[subprocess.Popen, int]:
    """The naive baseline app under uvicorn on a free port, once it answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESCENT_")}
    env |= {"TF_CPP_MIN_LOG_LEVEL": "2", "NAIVE_MODEL": str(keras_path)}
    command = [sys.executable, "-m", "uvicorn", "naive_app:app", "--app-dir", "bench"]
    command += ["--port", str(port), "--log-level", "warning"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the naive app exited early:\n{log.read_text()[-3000:]}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/docs", timeout=2)
            return process, port
        except httpx.TransportError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"the naive app did not answer in time:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def train(service: Service, limit: int, epochs: int) -> str:
    spec = {**SPEC, "epochs": epochs, "dataset": {**SPEC["dataset"], "limit": limit}}
    job = service.client.post("/v1/jobs", json=spec).json()
    job = service.wait_for_job(job["id"], timeout=900)
    if job["status"] != "succeeded":
        raise RuntimeError(f"the benchmark's training job {job['status']}: {job['error']}")
    return job["model_id"]


def download(service: Service, model_id: str, file_format: str, folder: Path) -> Path:
    target = folder / f"model.{file_format}"
    response = service.client.get(f"/v1/models/{model_id}/download?format={file_format}")
    response.raise_for_status()
    target.write_bytes(response.content)
    return target


# --- measurements ---------------------------------------------------------------------------


def json_body(images: np.ndarray) -> bytes:
    return json.dumps({"instances": images.tolist()}).encode()


def npy_body(images: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, images)
    return buffer.getvalue()


def v2_request(port: int, path: str, input_name: str, tensor: np.ndarray) -> bytes:
    """An Open Inference Protocol v2 infer request as ``tritonclient`` sends it: the JSON, then
    the tensor's raw bytes, ``Inference-Header-Content-Length`` saying where the JSON ends."""
    datatype = {np.dtype(np.float32): "FP32", np.dtype(np.uint8): "UINT8"}[tensor.dtype]
    header = json.dumps(
        {
            "inputs": [
                {
                    "name": input_name,
                    "shape": list(tensor.shape),
                    "datatype": datatype,
                    "parameters": {"binary_data_size": tensor.nbytes},
                }
            ],
            "parameters": {"binary_data_output": True},
        }
    ).encode()
    body = header + tensor.tobytes()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Inference-Header-Content-Length: {len(header)}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def v2_single_image(
    port: int, predict: str, v2: tuple[str, str], images: np.ndarray, seconds: float, pid
) -> dict:
    """One UINT8 image per v2 binary request (``v2``: the path and the model's input name)
    against one JSON image on Descent's own route, in alternating rounds at concurrency 1:
    the median round's p50 and server CPU ms per request of each."""
    requests = {
        "v2": v2_request(port, *v2, images[:1]),
        "own": raw_post(port, predict, json_body(images[:1]), "application/json"),
    }
    rounds: dict[str, list[tuple[float, float]]] = {"v2": [], "own": []}
    for _ in range(ROUNDS):
        for kind, request in requests.items():
            result = load(port, request, 1, seconds / ROUNDS, pid=pid)
            if result.errors:
                raise RuntimeError(f"{result.errors} {kind} single-image requests failed")
            rounds[kind].append((result.percentile_ms(50), result.server_cpu_ms))
    return {
        f"{kind}_one_{name}": float(np.median([m[i] for m in measured]))
        for kind, measured in rounds.items()
        for i, name in enumerate(("p50_ms", "cpu_ms"))
    }


def single_image(port: int, path: str, images: np.ndarray, seconds: float, pid=None) -> dict:
    request = raw_post(port, path, json_body(images[:1]), "application/json")
    figures = {}
    for concurrency in (1, 8):
        result = load(port, request, concurrency, seconds, pid=pid)
        if result.errors:
            raise RuntimeError(f"{result.errors} requests failed at concurrency {concurrency}")
        figures[f"c{concurrency}_p50_ms"] = result.percentile_ms(50)
        figures[f"c{concurrency}_p99_ms"] = result.percentile_ms(99)
        figures[f"c{concurrency}_per_s"] = result.rate
        figures[f"c{concurrency}_cpu_ms"] = result.server_cpu_ms
    return figures


def http_batches(port: int, request: bytes, seconds: float, pid=None) -> tuple[float, float]:
    """Batches of ``BATCH`` images one request after another: images/s, server CPU ms each."""
    result = load(port, request, 1, seconds, warmup=1, pid=pid)
    if result.errors:
        raise RuntimeError(f"{result.errors} batch requests failed")
    return result.rate * BATCH, result.server_cpu_ms


def onnx_batches(model: OnnxModel, batch: np.ndarray, seconds: float) -> tuple[float, float]:
    """In-process batches: images/s, and CPU ms per batch (one ONNX Runtime thread)."""
    runs, started, cpu = 0, time.perf_counter(), time.process_time()
    while runs < 3 or time.perf_counter() - started < seconds:
        model.run(batch)
        runs += 1
    cpu_ms = (time.process_time() - cpu) / runs * 1e3
    return runs * BATCH / (time.perf_counter() - started), cpu_ms


def onnx_one_image_ms(model: OnnxModel, image: np.ndarray, seconds: float) -> float:
    timings: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        model.run(image)
        timings.append(time.perf_counter() - started)
    return float(np.percentile(timings, 50)) * 1e3


def batches(
    port: int,
    path: str,
    v2: tuple[str, str],
    onnx_path: Path,
    images: np.ndarray,
    seconds: float,
    pid,
) -> dict:
    """In-process and HTTP batches measured in alternating rounds, so that both see the same
    background load on a shared machine; the median round of each is kept."""
    model = OnnxModel(onnx_path)  # the API's own session settings
    batch = scale_pixels(images[:BATCH], (28, 28, 1))
    requests = {
        "npy": raw_post(port, path, npy_body(images[:BATCH]), "application/x-npy"),
        "json": raw_post(port, path, json_body(images[:BATCH]), "application/json"),
        "v2_fp32": v2_request(port, *v2, batch),  # the model's raw input, as Triton takes it
        "v2_uint8": v2_request(port, *v2, images[:BATCH]),  # 0-255 pixels
    }
    rounds: dict[str, list[tuple[float, float]]] = {"onnx": [], **{kind: [] for kind in requests}}
    for _ in range(ROUNDS):
        rounds["onnx"].append(onnx_batches(model, batch, seconds / ROUNDS))
        for kind, request in requests.items():
            rounds[kind].append(http_batches(port, request, seconds / ROUNDS, pid))
    figures = {}
    for kind, measured in rounds.items():
        figures[f"batch_{kind}_images_per_s"] = float(np.median([m[0] for m in measured]))
        figures[f"batch_{kind}_cpu_ms"] = float(np.median([m[1] for m in measured]))
    figures["onnx_one_p50_ms"] = onnx_one_image_ms(model, batch[:1], seconds)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each load phase")
    parser.add_argument("--limit", type=int, default=10_000, help="MNIST rows to train on")
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()

    with np.load(ROOT / "data" / "mnist.npz") as data:
        images = data["x_test"][:BATCH]
    print(f"cores: {os.cpu_count()}  load average at start: {os.getloadavg()[0]:.2f}")
    folder = Path(tempfile.mkdtemp(prefix="descent-bench-"))
    try:
        service = start_service(folder / "home", DESCENT_ACCESS_LOG="false")
        try:
            print(f"training {SPEC['name']} ({args.limit:,} rows, {args.epochs} epoch(s)) ...")
            model_id = train(service, args.limit, args.epochs)
            onnx_path = download(service, model_id, "onnx", folder)
            keras_path = download(service, model_id, "keras", folder)
            port, path = int(service.url.rsplit(":", 1)[1]), f"/v1/models/{model_id}/predict"
            metadata = service.client.get(f"/v2/models/{model_id}").json()
            v2 = (f"/v2/models/{model_id}/infer", metadata["inputs"][0]["name"])
            print("measuring Descent over HTTP (access log off) and ONNX Runtime in-process ...")
            ours = single_image(port, path, images, args.seconds, service.pid)
            ours |= v2_single_image(port, path, v2, images, args.seconds, service.pid)
            ours |= batches(port, path, v2, onnx_path, images, args.seconds, service.pid)
        finally:
            stop_service(service)

        print("measuring the naive Keras endpoint ...")
        naive, naive_port = start_naive(keras_path, folder / "naive.log")
        try:
            baseline = single_image(naive_port, "/predict", images, args.seconds)
            json_request = raw_post(naive_port, "/predict", json_body(images), "application/json")
            rate, _ = http_batches(naive_port, json_request, args.seconds)
            baseline["batch_json_images_per_s"] = rate
        finally:
            stop(naive)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report(ours, baseline)


def report(ours: dict, naive: dict) -> None:
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}\n")
    onnx = ours["batch_onnx_images_per_s"]
    print("(a) ONNX Runtime in-process (one thread, the API's session settings)")
    print(f"    one image: p50 {ours['onnx_one_p50_ms']:.3f} ms")
    print(
        f"    batches of {BATCH:,}: {onnx:,.0f} images/s "
        f"({ours['batch_onnx_cpu_ms']:.1f} ms CPU per batch)"
    )
    for name, figures in (("(b) Descent over HTTP", ours), ("(d) naive Keras endpoint", naive)):
        print(name)
        for c in (1, 8):
            cpu = f", server CPU {figures[f'c{c}_cpu_ms']:.3f} ms/req" if name[1] == "b" else ""
            print(
                f"    one image, concurrency {c}: p50 {figures[f'c{c}_p50_ms']:.3f} ms, "
                f"p99 {figures[f'c{c}_p99_ms']:.3f} ms, {figures[f'c{c}_per_s']:,.0f} req/s{cpu}"
            )
        if name[1] == "d":
            rate = figures["batch_json_images_per_s"]
            print(f"    batches of {BATCH:,} (JSON): {rate:,.0f} images/s")
    print("(e) Open Inference Protocol v2, binary tensors, one image at concurrency 1")
    for kind, label in (("v2", "v2 binary UINT8"), ("own", "own JSON route")):
        print(
            f"    {label}: p50 {ours[f'{kind}_one_p50_ms']:.3f} ms, "
            f"server CPU {ours[f'{kind}_one_cpu_ms']:.3f} ms/req"
        )
    print(f"(c, e) Descent over HTTP, batches of {BATCH:,}")
    for form in ("npy", "json", "v2_fp32", "v2_uint8"):
        print(
            f"    {form}: {ours[f'batch_{form}_images_per_s']:,.0f} images/s "
            f"(server CPU {ours[f'batch_{form}_cpu_ms']:.1f} ms per request)"
        )

    def ratio(label: str, value: float, target: float | None, higher: bool = True) -> None:
        verdict = ""
        if target is not None:
            verdict = "met" if (value >= target if higher else value <= target) else "MISSED"
        print(f"    {label:<62} {value:9,.2f}  {verdict}")

    print("\nfigures against the targets")
    ratio("single-image p50 at concurrency 1, ms (≤ 2)", ours["c1_p50_ms"], 2, higher=False)
    ratio("req/s at concurrency 8 (≥ 1,000)", ours["c8_per_s"], 1000)
    ratio(
        "HTTP batch .npy ÷ in-process, images/s (≥ 0.70)",
        ours["batch_npy_images_per_s"] / onnx,
        0.7,
    )
    ratio("HTTP batch JSON ÷ in-process, images/s", ours["batch_json_images_per_s"] / onnx, None)
    ratio(
        "v2 binary FP32 batch ÷ in-process, images/s (≥ 0.70)",
        ours["batch_v2_fp32_images_per_s"] / onnx,
        0.7,
    )
    ratio("v2 binary UINT8 batch ÷ in-process, images/s (≥ 0.70)",
          ours["batch_v2_uint8_images_per_s"] / onnx, 0.7)  # fmt: skip
    ratio("v2 binary ÷ own JSON route, single-image p50 (≤ 1.3)",
          ours["v2_one_p50_ms"] / ours["own_one_p50_ms"], 1.3, higher=False)  # fmt: skip
    for c in (1, 8):
        ratio(f"ours ÷ naive, req/s at concurrency {c} (≥ 30)",
              ours[f"c{c}_per_s"] / naive[f"c{c}_per_s"], 30)  # fmt: skip
    latency = naive["c1_p50_ms"] / ours["c1_p50_ms"]
    ratio("naive ÷ ours, single-image p50 latency (≥ 30)", latency, 30)
    ratio("ours ÷ naive, JSON batches of 1,000, images/s",
          ours["batch_json_images_per_s"] / naive["batch_json_images_per_s"], None)  # fmt: skip
    print("\nby CPU time (what the code costs, whatever else shares the machine)")
    onnx_cpu = ours["batch_onnx_cpu_ms"]
    ratio("in-process ÷ HTTP .npy batch, CPU ms", onnx_cpu / ours["batch_npy_cpu_ms"], 0.7)
    ratio("in-process ÷ HTTP JSON batch, CPU ms", onnx_cpu / ours["batch_json_cpu_ms"], None)
    ratio("in-process ÷ v2 binary FP32 batch, CPU ms", onnx_cpu / ours["batch_v2_fp32_cpu_ms"], 0.7)
    ratio("in-process ÷ v2 binary UINT8 batch, CPU ms",
          onnx_cpu / ours["batch_v2_uint8_cpu_ms"], 0.7)  # fmt: skip
    ratio("v2 binary ÷ own JSON route, single-image server CPU ms",
          ours["v2_one_cpu_ms"] / ours["own_one_cpu_ms"], None)  # fmt: skip
    ratio("one core's worth of single-image requests, req/s", 1e3 / ours["c8_cpu_ms"], None)


if __name__ == "__main__":
    main()
