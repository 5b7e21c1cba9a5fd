"""What watching and cancelling cost a fit: the batch-progress and cancel-check callbacks.

Trains the same small spec with and without the worker's callbacks (progress events written to
a real SQLite database, the cancel flag read from it), alternating runs, and prints the median
wall-clock and CPU time (all threads) of each and their ratios. On a shared machine the CPU
ratio is the steadier of the two.

    .venv/bin/python bench/control_overhead.py [--runs 5]
    .venv/bin/python bench/control_overhead.py --cancel [--runs 5]   # cancel latency

``--cancel`` measures how soon a cancel stops the fit: full MNIST, the DLI dense model, steps per
execution chosen as a worker chooses them; a thread cancels the job through ``services.jobs
.cancel`` (as the API does) at a random moment of the training, and the time from that commit
to the end of the last batch (the callback that saw the cancel) is the latency. It prints
p50/p95 and the steps per execution used (target: p50 ≤ 1 s).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from core.settings import PROJECT_ROOT, Settings  # noqa: E402
from models.db import session_scope  # noqa: E402
from processes import migrate  # noqa: E402
from services import jobs  # noqa: E402
from services.artifacts import get_store  # noqa: E402
from services.queue import Broker  # noqa: E402
from tests.factories import job_spec_model  # noqa: E402
from training.keras.fit import train  # noqa: E402
from workers.attempt import Attempt  # noqa: E402
from workers.progress import CancelCheck, ProgressRecorder  # noqa: E402

SPEC = job_spec_model(limit=6000, units=128, epochs=3, batch_size=32)


def timed(**callbacks) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    train(SPEC, PROJECT_ROOT / "data", lambda *_: None, **callbacks)
    return time.perf_counter() - wall, time.process_time() - cpu


CANCEL_SPEC = job_spec_model(
    limit=None,
    validation="test",
    units=(512, 512),
    epochs=1,
    batch_size=32,
    optimizer={"name": "rmsprop", "learning_rate": 0.001},
)  # fmt: skip  (the DLI MNIST model on the whole training set)


def cancel_latency(settings: Settings, runs: int) -> None:
    import random
    import threading

    url = settings.resolved_database_url
    latencies: list[float] = []
    for run in range(runs):
        with session_scope(url) as session:
            job = jobs.submit(session, CANCEL_SPEC, settings=settings, broker=Broker(settings))
            job_id = job.id
        with session_scope(url) as session:
            jobs.claim(session, job_id)
        attempt = Attempt(job_id, 1, settings, get_store(settings))
        check = CancelCheck(attempt)
        asked: list[float] = []
        seen: list[float] = []

        def cancel_later(delay: float, job_id: str = job_id, asked: list[float] = asked) -> None:
            time.sleep(delay)
            with session_scope(url) as session:
                jobs.cancel(session, job_id)
            asked.append(time.perf_counter())  # committed

        def should_stop(check: CancelCheck = check, seen: list[float] = seen) -> bool:
            stop = check()
            if stop and not seen:
                seen.append(time.perf_counter())
            return stop

        delay = random.Random(run).uniform(1.0, 4.0)

        def start_canceller(epoch: int, *_: object, delay: float = delay) -> None:
            if epoch == 0:  # training starts now: cancel at a random moment of it
                threading.Thread(target=cancel_later, args=(delay,), daemon=True).start()

        result = train(
            CANCEL_SPEC, PROJECT_ROOT / "data", start_canceller, should_stop=should_stop,
            on_batch=ProgressRecorder(attempt),
        )  # fmt: skip
        if not (result.stopped and asked and seen):
            print(f"run {run + 1}: the fit ended before the cancel; skipped", file=sys.stderr)
            continue
        latencies.append(seen[0] - asked[0])
        print(
            f"run {run + 1}: stopped {latencies[-1] * 1000:.0f} ms after the cancel "
            f"({result.execution})",
            file=sys.stderr,
        )
    if latencies:
        ordered = sorted(latencies)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        print(
            f"cancel → last batch: p50 {statistics.median(latencies) * 1000:.0f} ms, "
            f"p95 {p95 * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms (n={len(latencies)})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cancel", action="store_true", help="measure cancel latency")
    args = parser.parse_args()
    if args.cancel:
        with tempfile.TemporaryDirectory() as home:
            os.environ["DESCENT_HOME"] = home
            settings = Settings()
            migrate.upgrade(settings.resolved_database_url)
            cancel_latency(settings, args.runs)
        return
    with tempfile.TemporaryDirectory() as home:
        os.environ["DESCENT_HOME"] = home  # the job's message goes to a broker in here
        settings = Settings()
        url = settings.resolved_database_url
        migrate.upgrade(url)
        with session_scope(url) as session:
            job_id = jobs.submit(session, SPEC, settings=settings, broker=Broker(settings)).id
        with session_scope(url) as session:
            jobs.claim(session, job_id)
        attempt = Attempt(job_id, 1, settings, get_store(settings))
        timed()  # warm up: the first fit pays for tracing and data loading
        plain, watched = [], []
        for _ in range(args.runs):
            plain.append(timed())
            watched.append(
                timed(
                    should_stop=CancelCheck(attempt),
                    on_batch=ProgressRecorder(attempt),
                )
            )
    for index, name in enumerate(("wall", "CPU")):
        p = statistics.median(t[index] for t in plain)
        w = statistics.median(t[index] for t in watched)
        print(f"{name}: plain {p:.2f} s, with progress + cancel check {w:.2f} s; ratio {w / p:.3f}")


if __name__ == "__main__":
    main()
