"""Is the queue the bottleneck? Submit → running, and last epoch → succeeded, per broker.

For each backend it starts a ``descent serve`` (API + one worker) in a temporary home and sends
``--jobs`` tiny jobs one at a time, each once the worker's next pool child is warm and idle (a
server that waits for work), then reads the times the server itself recorded:

- **submit → running**: the job's ``created_at`` (the API wrote it while answering the POST) to
  its ``running`` transition (the worker's claim): the broker's delivery plus the claim;
- **last epoch → succeeded**: the last ``epoch`` event to the ``succeeded`` transition: the
  export to ``.keras`` and ``.onnx``, the ONNX-vs-Keras check and the upload of the files.

Backends: ``embedded`` (SQLite database and SQLite broker under the home, the default install)
and ``redis`` (Redis at ``--redis``, PostgreSQL at ``--postgres``: a fresh database there, dropped
at the end; the production topology). Targets (issue #14): p50 ≤ 100 ms to running on Redis,
≤ 1 s embedded.

    .venv/bin/python bench/queue_latency.py                      # both backends, 10 jobs each
    .venv/bin/python bench/queue_latency.py --backend embedded --jobs 20
    .venv/bin/python bench/queue_latency.py --backend embedded --polling-interval 0.1
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import factories  # noqa: E402
from tests.harness import Service, start_service, stop_service  # noqa: E402

SPEC = factories.job_spec(name="queue-latency", limit=256, epochs=1, batch_size=64)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def recorded_times(service: Service, job_id: str) -> tuple[float, float | None]:
    """(submit → running, last epoch → succeeded) in seconds, from the server's own records."""
    from sqlalchemy import select

    from models.db import session_scope
    from models.job_event import JobEvent
    from services import jobs

    with session_scope(service.settings.resolved_database_url) as session:
        job = jobs.get(session, job_id)
        at = {t.status: t.at for t in job.transitions}
        last_epoch: datetime | None = session.scalar(
            select(JobEvent.created_at)
            .where(JobEvent.job_id == job_id, JobEvent.kind == "epoch")
            .order_by(JobEvent.id.desc())
            .limit(1)
        )
        to_running = (at["running"] - job.created_at).total_seconds()
        finishing = None
        if last_epoch is not None and "succeeded" in at:
            finishing = (at["succeeded"] - last_epoch).total_seconds()
    return to_running, finishing


def measure(service: Service, jobs: int, idle: float) -> dict[str, list[float]]:
    running: list[float] = []
    finishing: list[float] = []
    for i in range(jobs):
        service.wait_for_warm_worker(count=i + 1)
        time.sleep(idle)  # the worker idles, polling its queue, as on a server waiting for work
        job = service.client.post("/v1/jobs", json=SPEC).json()
        done = service.wait_for_job(job["id"], timeout=600, poll=0.1)
        if done["status"] != "succeeded":
            sys.exit(f"job {job['id']} ended {done['status']}: {done.get('error')}")
        to_running, to_succeeded = recorded_times(service, job["id"])
        running.append(to_running)
        if to_succeeded is not None:
            finishing.append(to_succeeded)
        print(f"  job {i + 1}/{jobs}: running after {to_running * 1000:.0f} ms", file=sys.stderr)
    return {"running": running, "finishing": finishing}


def redis_settings(redis: str, postgres: str) -> tuple[dict[str, str], Any]:
    """DESCENT_* variables for Redis + a fresh PostgreSQL database; returns a drop function."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server = make_url(postgres)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"descent_bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        from models.db import _engines

        for (_, url), engine in list(_engines.items()):
            if name in url:
                engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    database = server.set(database=name).render_as_string(hide_password=False)
    variables = {
        "DESCENT_DATABASE_URL": database,
        "DESCENT_BROKER_URL": redis,
        "DESCENT_BROKER_KEY_PREFIX": f"{name}:",
    }
    return variables, drop


def run_backend(name: str, args: argparse.Namespace) -> dict[str, list[float]]:
    variables: dict[str, str] = {}
    drop = None
    if name == "redis":
        variables, drop = redis_settings(args.redis, args.postgres)
    if args.polling_interval is not None:
        variables["DESCENT_BROKER_POLLING_INTERVAL"] = str(args.polling_interval)
    try:
        with tempfile.TemporaryDirectory(prefix=f"descent-queue-{name}-") as home:
            service = start_service(Path(home), **variables)
            try:
                return measure(service, args.jobs, args.idle)
            finally:
                stop_service(service)
    finally:
        if drop is not None:
            drop()


def report(name: str, times: dict[str, list[float]]) -> None:
    running, finishing = times["running"], times["finishing"]
    print(
        f"{name:9} submit → running: p50 {statistics.median(running) * 1000:6.0f} ms, "
        f"p95 {percentile(running, 0.95) * 1000:6.0f} ms (n={len(running)}); "
        f"last epoch → succeeded (export, ONNX check, upload): "
        f"p50 {statistics.median(finishing):.2f} s, p95 {percentile(finishing, 0.95):.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("embedded", "redis", "both"), default="both")
    parser.add_argument("--jobs", type=int, default=10)
    parser.add_argument("--idle", type=float, default=2.0, help="seconds idle before a submit")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument(
        "--polling-interval",
        type=float,
        default=None,
        help="DESCENT_BROKER_POLLING_INTERVAL for the worker (if the setting exists)",
    )
    args = parser.parse_args()
    backends = ["embedded", "redis"] if args.backend == "both" else [args.backend]
    results = {name: run_backend(name, args) for name in backends}
    print()
    for name, times in results.items():
        report(name, times)


if __name__ == "__main__":
    main()
