"""The API under hostile load: slow-loris connections and open event streams, while a client
measures /healthz and predict.

A benchmark, and the core of tests/integration/test_load_limits.py. In one run it:

1. starts ``descent serve --no-worker`` (tests/harness.py) in a fresh state directory, with
   no per-owner stream limit (every request is the one local owner) and the access log off,
   and registers a small real ONNX classifier (tests/serving/onnx_models.py) as a model;
2. holds ``--slow`` slow-loris connections: each sends half a request header, then a byte a
   second; when the server closes one (after its header timeout) it reconnects at once, as an
   attacker would, so that the count holds for the whole run;
3. holds ``--streams`` event streams open (``GET /v1/jobs/{id}/events`` over ``--jobs`` queued
   jobs), each read up to its first event;
4. measures, one request at a time over one keep-alive connection, ``GET /healthz`` and
   ``POST /v1/models/{id}/predict`` with one 28×28 image, for ``--seconds`` each;

then prints p50/p95 of both, how long the server held each slow-loris connection, and whether
every stream was still open at the end. Everything is on loopback and stops by itself.

    .venv/bin/python bench/load.py [--slow 1000] [--streams 1000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.settings import Settings  # noqa: E402
from tests.api.test_predict import register_model  # noqa: E402
from tests.harness import Service, start_service, stop_service  # noqa: E402

HALF_A_HEADER = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


@dataclass
class Figures:
    healthz_ms: list[float] = field(default_factory=list)
    predict_ms: list[float] = field(default_factory=list)
    slow_held_s: list[float] = field(default_factory=list)  # per slow connection the server closed
    slow_open: list[int] = field(default_factory=list)  # open slow-loris, at each request
    streams_opened: int = 0
    streams_open_at_end: int = 0
    stream_refusals: list[str] = field(default_factory=list)

    @staticmethod
    def percentile(values: list[float], q: float) -> float:
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def summary(self) -> dict[str, float | int]:
        return {
            "healthz_p50_ms": round(statistics.median(self.healthz_ms), 2),
            "healthz_p95_ms": round(self.percentile(self.healthz_ms, 0.95), 2),
            "healthz_requests": len(self.healthz_ms),
            "predict_p50_ms": round(statistics.median(self.predict_ms), 2),
            "predict_p95_ms": round(self.percentile(self.predict_ms, 0.95), 2),
            "predict_requests": len(self.predict_ms),
            "slow_open_while_measuring_p50": int(statistics.median(self.slow_open or [0])),
            "slow_closed_by_server": len(self.slow_held_s),
            "slow_held_min_s": round(min(self.slow_held_s, default=float("nan")), 2),
            "slow_held_max_s": round(max(self.slow_held_s, default=float("nan")), 2),
            "streams_opened": self.streams_opened,
            "streams_open_at_end": self.streams_open_at_end,
        }


def raise_open_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def slow_loris(port: int, stop: asyncio.Event, figures: Figures, open_now: list[int]) -> None:
    """One attacker connection at a time, forever renewed, until ``stop``."""
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.5)
            continue
        opened = time.monotonic()
        open_now[0] += 1
        try:
            writer.write(HALF_A_HEADER)
            while not stop.is_set():
                await writer.drain()
                try:
                    # A server that closes the connection ends this read; else drip a byte.
                    if await asyncio.wait_for(reader.read(1024), 1.0) == b"":
                        figures.slow_held_s.append(time.monotonic() - opened)
                        break
                    figures.slow_held_s.append(time.monotonic() - opened)  # answered (408)
                    break
                except TimeoutError:
                    writer.write(b"a")
        except (ConnectionError, OSError):
            figures.slow_held_s.append(time.monotonic() - opened)
        finally:
            open_now[0] -= 1
            writer.close()


async def open_stream(port: int, job_id: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET /v1/jobs/{job_id}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Accept: text/event-stream\r\n\r\n".encode()
    )
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 60)
    if not head.startswith(b"HTTP/1.1 200"):
        writer.close()
        raise RuntimeError(head.split(b"\r\n", 1)[0].decode())
    await asyncio.wait_for(reader.readuntil(b"event: status"), 60)  # the queued event
    return reader, writer


async def measure(
    url: str, model_id: str, seconds: float, figures: Figures, open_now: list[int]
) -> None:
    image = [[[0.0] for _ in range(28)] for _ in range(28)]
    body = json.dumps({"instances": [image]}).encode()
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        for target, path, content in (
            (figures.healthz_ms, "/healthz", None),
            (figures.predict_ms, f"/v1/models/{model_id}/predict", body),
        ):
            until = time.monotonic() + seconds
            while time.monotonic() < until:
                started = time.perf_counter()
                if content is None:
                    response = await client.get(path)
                else:
                    response = await client.post(
                        path, content=content, headers={"content-type": "application/json"}
                    )
                elapsed = (time.perf_counter() - started) * 1000
                response.raise_for_status()
                target.append(elapsed)
                figures.slow_open.append(open_now[0])


async def hold_and_measure(
    service: Service,
    model_id: str,
    job_ids: list[str],
    *,
    slow: int,
    streams: int,
    seconds: float,
    settle: float = 0.0,
) -> Figures:
    """Hold the slow-loris connections and the streams, measure, then let go of everything."""
    port = int(service.url.rsplit(":", 1)[1])
    figures = Figures()
    stop = asyncio.Event()
    open_now = [0]
    attackers = [
        asyncio.create_task(slow_loris(port, stop, figures, open_now)) for _ in range(slow)
    ]
    held: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        for start in range(0, streams, 100):  # a hundred at a time: a burst, not a flood
            batch = [
                open_stream(port, job_ids[i % len(job_ids)])
                for i in range(start, min(start + 100, streams))
            ]
            for outcome in await asyncio.gather(*batch, return_exceptions=True):
                if isinstance(outcome, BaseException):
                    figures.stream_refusals.append(repr(outcome))
                else:
                    held.append(outcome)
        figures.streams_opened = len(held)
        await measure(service.url, model_id, seconds, figures, open_now)
        if settle:
            await asyncio.sleep(settle)
        figures.streams_open_at_end = sum(
            1 for reader, _ in held if not reader.at_eof() and not reader.exception()
        )
    finally:
        stop.set()
        for _, writer in held:
            writer.close()
        await asyncio.gather(*attackers, return_exceptions=True)
    return figures


def setup(home: Path, jobs: int, **settings: str) -> tuple[Service, str, list[str]]:
    """The server, a registered model and ``jobs`` queued jobs to stream."""
    service = start_service(
        home,
        worker=False,
        DESCENT_MAX_STREAMS_PER_OWNER="0",
        DESCENT_ACCESS_LOG="false",
        **settings,
    )
    try:
        model_id = register_model(service.client, home / "model", Settings(home=home))
        from tests.api.conftest import MNIST_SPEC

        job_ids = [
            service.client.post("/v1/jobs", json=MNIST_SPEC).json()["id"] for _ in range(jobs)
        ]
    except BaseException:
        stop_service(service)
        raise
    return service, model_id, job_ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slow", type=int, default=1000, help="slow-loris connections held")
    parser.add_argument("--streams", type=int, default=1000, help="event streams held open")
    parser.add_argument("--jobs", type=int, default=20, help="queued jobs the streams follow")
    parser.add_argument("--seconds", type=float, default=5, help="measuring time per route")
    parser.add_argument(
        "--header-timeout", type=float, default=10, help="DESCENT_HEADER_TIMEOUT_SECONDS"
    )
    args = parser.parse_args()
    raise_open_file_limit()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        (home / "model").mkdir(parents=True)
        service, model_id, job_ids = setup(
            home, args.jobs, DESCENT_HEADER_TIMEOUT_SECONDS=str(args.header_timeout)
        )
        try:
            figures = asyncio.run(
                hold_and_measure(
                    service,
                    model_id,
                    job_ids,
                    slow=args.slow,
                    streams=args.streams,
                    seconds=args.seconds,
                )
            )
        finally:
            stop_service(service)
    print(json.dumps(figures.summary(), indent=2))
    if figures.stream_refusals:
        failed = figures.stream_refusals
        print(f"{len(failed)} streams failed to open, e.g. {failed[0]}")


if __name__ == "__main__":
    main()
