"""How soon a finished epoch reaches an event-stream listener on the embedded service.

Starts ``descent serve`` on a fresh state directory, trains a small job, listens to its event
stream, and compares each epoch event's arrival with the moment the worker wrote it (the
event row's ``created_at``; same machine, same clock). Prints each latency and the ratios of
the worst one to the stream's poll interval and to the 1 s the issue allows.

    .venv/bin/python bench/event_latency.py [--epochs 8]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.settings import Settings  # noqa: E402
from tests.conftest import start_service, stop_service  # noqa: E402
from tests.factories import job_spec  # noqa: E402
from tests.sse import parse  # noqa: E402

ALLOWED_SECONDS = 1.0


def spec(epochs: int) -> dict:
    return job_spec(name="latency", limit=3000, epochs=epochs)


def written_at(database: Path, job_id: str) -> dict[int, datetime]:
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT id, created_at FROM job_event WHERE job_id = ? AND kind = 'epoch'", (job_id,)
        ).fetchall()
    return {i: datetime.fromisoformat(at).replace(tzinfo=UTC) for i, at in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        service = start_service(Path(home))
        try:
            job_id = service.client.post("/v1/jobs", json=spec(args.epochs)).json()["id"]
            arrived: dict[int, datetime] = {}
            url = f"{service.client.base_url}/v1/jobs/{job_id}/events"
            with httpx.stream("GET", url, timeout=600) as response:
                for event in parse(response.iter_lines()):
                    if event.kind == "epoch":
                        arrived[event.id] = datetime.now(UTC)
            written = written_at(Path(home) / "descent.db", job_id)
        finally:
            stop_service(service)
    latencies = [(arrived[i] - written[i]).total_seconds() for i in sorted(arrived)]
    poll = Settings().events_poll_seconds
    print(json.dumps({"epoch_latencies_s": [round(s, 3) for s in latencies]}))
    print(
        f"epochs: {len(latencies)}  median {statistics.median(latencies):.3f} s  "
        f"worst {max(latencies):.3f} s"
    )
    print(f"worst / poll interval ({poll} s): {max(latencies) / poll:.2f}")
    print(f"worst / allowed ({ALLOWED_SECONDS} s): {max(latencies) / ALLOWED_SECONDS:.2f}")


if __name__ == "__main__":
    main()
