"""What Prometheus metrics cost prediction: single-image p50 with metrics on ÷ off.

A benchmark, not a test. In one run on this machine:

1. starts two API-only services (``descent serve --no-worker``, access log off;
   ``tests/harness.py``), each in a fresh state directory: one as deployed (metrics on), one
   with ``DESCENT_METRICS=false``;
2. registers the same small ONNX classifier in each (``register_model`` from the API tests: a
   linear layer and softmax, no training). Its inference is tiny, so the request's own work,
   which is what the metrics add to, is most of the time: the worst case for the ratio;
3. sends one JSON image per request at concurrency 1 (bench/loadgen.py), in alternating rounds
   of ``--seconds`` each so that both see the same background load, and keeps each side's
   median round;
4. times, in this process, the counting one predict request does (its cache hit, its
   prediction, its request): a figure a busy machine moves far less than the wall clock;

then prints the p50 latency and server CPU time per request of each side, and the ratios on ÷
off (target: p50 ≤ 1.05), with the median of each round's paired ratio beside it. It also
scrapes ``/metrics`` of the metrics-on server and checks that its prediction histogram counted
every request sent.

    .venv/bin/python bench/metrics_overhead.py [--seconds 1.5] [--rounds 15]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.metrics import ApiMetrics  # noqa: E402
from bench.loadgen import load, raw_post  # noqa: E402
from tests.api.test_predict import register_model  # noqa: E402
from tests.harness import Service, start_service, stop_service  # noqa: E402

WARMUP = 20  # requests each load phase sends per connection before it measures
TARGET = 1.05


def port_of(service: Service) -> int:
    return int(service.url.rsplit(":", 1)[1])


def predictions_counted(service: Service) -> float:
    text = service.client.get("/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "descent_prediction_duration_seconds_count":
                return sample.value
    return 0.0


def metrics_work_us(calls: int = 50_000) -> float:
    """The counting one predict request does (its cache hit, its prediction, its request),
    timed in this process, in microseconds: the steady part of the figure on a busy machine."""
    metrics = ApiMetrics(sessions=None, broker=None)  # never scraped: no database or broker
    route = "/v1/models/{model_id}/predict"
    started = time.perf_counter()
    for _ in range(calls):
        metrics.cache_event("hit")
        metrics.predicted("classification", 0.0008, 1)
        metrics.request_done(route, "POST", 200, 0.0009)
    return (time.perf_counter() - started) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="length of each load phase")
    parser.add_argument("--rounds", type=int, default=15, help="load phases per side")
    args = parser.parse_args()

    with np.load(ROOT / "data" / "mnist.npz") as data:
        image = data["x_test"][:1]
    body = json.dumps({"instances": image.tolist()}).encode()
    print(f"cores: {os.cpu_count()}  load average at start: {os.getloadavg()[0]:.2f}")
    folder = Path(tempfile.mkdtemp(prefix="descent-bench-metrics-"))
    services: dict[str, Service] = {}
    try:
        for side, metrics in (("on", "true"), ("off", "false")):
            services[side] = start_service(
                folder / side, worker=False, DESCENT_ACCESS_LOG="false", DESCENT_METRICS=metrics
            )
        requests = {}
        for side, service in services.items():
            path = f"/v1/models/{register_model(service.client, folder, service.settings)}/predict"
            requests[side] = raw_post(port_of(service), path, body, "application/json")
            answer = service.client.post(path, json={"instances": image.tolist()})
            answer.raise_for_status()  # the model is loaded now: no round pays for it
        sent = 1  # the metrics-on server's predictions so far

        rounds: dict[str, list[tuple[float, float]]] = {"on": [], "off": []}
        print(f"{args.rounds} rounds of {args.seconds:g} s per side, one image per request ...")
        for index in range(args.rounds):
            order = ("on", "off") if index % 2 == 0 else ("off", "on")  # neither always first
            for side in order:
                service = services[side]
                result = load(
                    port_of(service), requests[side], 1, args.seconds, WARMUP, service.pid
                )
                if result.errors:
                    raise RuntimeError(f"{result.errors} requests failed with metrics {side}")
                rounds[side].append((result.percentile_ms(50), result.server_cpu_ms))
                if side == "on":
                    sent += WARMUP + len(result.latencies)
        counted = predictions_counted(services["on"])
    finally:
        for service in services.values():
            stop_service(service)
        shutil.rmtree(folder, ignore_errors=True)

    print(f"load average at end: {os.getloadavg()[0]:.2f}\n")
    medians = {}
    for side, measured in rounds.items():
        p50s = ", ".join(f"{p50:.3f}" for p50, _ in measured)
        medians[side] = (
            statistics.median(p50 for p50, _ in measured),
            statistics.median(cpu for _, cpu in measured),
        )
        print(f"metrics {side:<3}: p50 per round {p50s} ms; median p50 {medians[side][0]:.3f} ms, "
              f"server CPU {medians[side][1]:.3f} ms/request")  # fmt: skip
    p50_ratio = medians["on"][0] / medians["off"][0]
    cpu_ratio = medians["on"][1] / medians["off"][1]
    # Each round's pair ran back to back: the median of their ratios follows slow drifts in
    # the machine's load less than the ratio of the medians does.
    paired = statistics.median(
        on[0] / off[0] for on, off in zip(rounds["on"], rounds["off"], strict=True)
    )
    verdict = "met" if p50_ratio <= TARGET else "MISSED"
    print(f"\nsingle-image p50, metrics on ÷ off: {p50_ratio:.3f}  (target ≤ {TARGET}: {verdict})")
    print(f"  median of the rounds' paired ratios: {paired:.3f}")
    print(f"server CPU per request, on ÷ off:   {cpu_ratio:.3f}")
    work = metrics_work_us()
    share = work / (medians["off"][0] * 1e3)
    print(f"the counting itself, in-process: {work:.1f} µs per predict request "
          f"({share:.1%} of the metrics-off p50)")  # fmt: skip
    check = "every one" if counted == sent else f"MISMATCH: sent {sent:,}"
    print(f"predictions counted by the metrics-on server: {counted:,.0f} ({check})")


if __name__ == "__main__":
    main()
