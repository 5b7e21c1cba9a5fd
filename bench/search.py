"""Random search with ASHA against the full grid: the same accuracy for a fraction of the epochs?

On an MNIST slice (6,000 training rows, the 10,000 test rows for validation, a dense 128 model,
Adam, 9 epochs per trial) it runs two searches through the real search service on a real
SQLite database, training each trial in this process the way a worker does (every epoch is
recorded through services/epochs.py, so the search's decisions are the production ones, and a
stopped trial sees its cancel at the next batch):

1. the full 3×3 grid of learning rate {3e-4, 3e-3, 3e-2} × batch size {32, 64, 128}, no stopping;
2. per seed, random search over learning rate loguniform [3e-4, 3e-2] × batch size {32, 64, 128},
   9 trials, ASHA with reduction factor 3 at epochs 1 and 3, and (``--budget``, default 0.4) a
   ``max_epochs_total`` of 40% of the grid's epochs, as a user with that budget would set it.

It prints each search's best validation accuracy and the epochs it trained, and checks the
issue's target: random + ASHA within 0.5 points of the grid's best, on at most 40% of its epochs.
``--budget 0`` runs ASHA alone, with no epoch budget.

    .venv/bin/python bench/search.py [--seeds 0 1 2] [--budget 0.4] [--limit 6000] [--epochs 9]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from api.routes.searches import checked_spec  # noqa: E402
from api.schemas.searches import SearchCreate  # noqa: E402
from core.settings import PROJECT_ROOT, Settings  # noqa: E402
from models.db import session_scope  # noqa: E402
from processes import migrate  # noqa: E402
from services import batches, epochs, jobs, searches  # noqa: E402
from training.spec import JobSpec  # noqa: E402

GRID_RATES = [3e-4, 3e-3, 3e-2]
BATCH_SIZES = [32, 64, 128]


class Inline:
    """A broker that hands the trials' messages to this process (the bench is the worker)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sent: list[str] = []

    def send_after_commit(self, session: Any, job_id: str, queue: str, *_: Any) -> None:
        self.sent.append(job_id)


def base(limit: int, epochs_per_trial: int) -> dict[str, Any]:
    return {
        "dataset": {"name": "mnist", "limit": limit, "validation": "test"},
        "model": {
            "layers": [
                {"type": "flatten"},
                {"type": "dense", "units": 128, "activation": "relu"},
                {"type": "dense", "units": 10, "activation": "softmax"},
            ]
        },
        "optimizer": {"name": "adam"},
        "epochs": epochs_per_trial,
        "seed": 0,
    }


def run_trial(url: str, job_id: str) -> None:
    """What a worker does with a trial's message, without the Celery around it."""
    from training.keras.fit import train

    with session_scope(url) as session:
        assert jobs.claim(session, job_id)
        spec = JobSpec.model_validate(jobs.get(session, job_id).spec)

    def on_epoch(epoch: int, seconds: float, logs: dict[str, float]) -> None:
        with session_scope(url) as session:
            epochs.record(session, job_id, epoch, seconds, logs)

    def should_stop() -> bool:
        with session_scope(url) as session:
            return jobs.should_stop(session, job_id)

    result = train(spec, PROJECT_ROOT / "data", on_epoch, should_stop=should_stop)
    with session_scope(url) as session:
        if result.stopped or jobs.should_stop(session, job_id):
            jobs.end_cancelled(session, job_id, result.final_metrics)
        else:
            jobs.succeed(session, job_id, result.final_metrics)


def run_search(settings: Settings, body: dict[str, Any]) -> dict[str, Any]:
    url = settings.resolved_database_url
    broker = Inline(settings)
    with session_scope(url) as session:
        spec = checked_spec(session, SearchCreate.model_validate(body), settings, "local")
        search_id = searches.create(
            session, spec, name=body["name"], owner="local", settings=settings, broker=broker
        ).id
    while broker.sent:
        job_id = broker.sent.pop(0)
        run_trial(url, job_id)
        with session_scope(url) as session:
            batches.dispatch_after(session, job_id, broker)  # the worker's call when a job ends
    with session_scope(url) as session:
        return searches.view(session, searches.get(session, search_id))


def describe(name: str, found: dict[str, Any], seconds: float) -> None:
    best = found["best"]
    print(
        f"{name}: best val_accuracy {best['value'] * 100:.2f}% (trial {best['number']}, "
        f"{best['params']}), {found['budget']['epochs_spent']} epochs, {seconds:.0f} s"
    )
    for t in sorted(found["trials"], key=lambda t: -(t["value"] or 0)):
        where = f"stopped at {t['stopped_at_epoch']}" if t["stopped_early"] else "ran to the end"
        rate = t["params"]["optimizer.learning_rate"]
        print(
            f"  #{t['number']} lr={rate:.2g} batch={t['params']['batch_size']}: "
            f"{(t['value'] or 0) * 100:.2f}% ({where})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="Sampler seeds.")
    parser.add_argument("--limit", type=int, default=6000, help="MNIST training rows.")
    parser.add_argument("--epochs", type=int, default=9, help="Epochs per trial.")
    parser.add_argument(
        "--budget", type=float, default=0.4,
        help="max_epochs_total as a share of the grid's epochs (0: no budget, ASHA alone).",
    )  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["DESCENT_HOME"] = home
        settings = Settings()
        migrate.upgrade(settings.resolved_database_url)
        common = {"base": base(args.limit, args.epochs), "metric": "val_accuracy"}
        started = time.perf_counter()
        grid = run_search(
            settings,
            {
                **common, "name": "grid", "sampler": {"type": "grid"}, "max_parallel": 1,
                "space": {"optimizer.learning_rate": {"choice": GRID_RATES},
                          "batch_size": {"choice": BATCH_SIZES}},
            },
        )  # fmt: skip
        describe("grid 3x3", grid, time.perf_counter() - started)
        grid_epochs = grid["budget"]["epochs_spent"]
        budget = int(grid_epochs * args.budget) or None
        met = []
        for seed in args.seeds:
            started = time.perf_counter()
            asha = run_search(
                settings,
                {
                    **common, "name": f"random+asha seed {seed}", "max_trials": 9,
                    "max_parallel": 1, "max_epochs_total": budget,
                    "sampler": {"type": "random", "seed": seed},
                    "space": {"optimizer.learning_rate": {"loguniform": [3e-4, 3e-2]},
                              "batch_size": {"choice": BATCH_SIZES}},
                    "early_stopping": {"type": "asha", "reduction_factor": 3, "rungs": [1, 3]},
                },
            )  # fmt: skip
            describe(f"random + ASHA, seed {seed}", asha, time.perf_counter() - started)
            gap = (grid["best"]["value"] - asha["best"]["value"]) * 100
            share = asha["budget"]["epochs_spent"] / grid_epochs
            met.append(gap <= 0.5 and share <= 0.4)
            print(
                f"  -> {abs(gap):.2f} points {'behind' if gap > 0 else 'ahead of'} the grid's "
                f"best (target: at most 0.5 behind) on {asha['budget']['epochs_spent']} of "
                f"{grid_epochs} epochs, {share:.0%} (target ≤ 40%): "
                + ("met" if met[-1] else "NOT met")
            )
    print(f"max_epochs_total {budget}: target met with {sum(met)} of {len(met)} seeds")


if __name__ == "__main__":
    main()
