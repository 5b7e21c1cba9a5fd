"""What watching and cancelling cost a fit: the batch-progress and cancel-check callbacks.

Trains the same small spec with and without the worker's callbacks (progress events written to
a real SQLite database, the cancel flag read from it), alternating runs, and prints the median
wall-clock and CPU time (all threads) of each and their ratios. On a shared machine the CPU
ratio is the steadier of the two.

    .venv/bin/python bench/control_overhead.py [--runs 5]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
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
