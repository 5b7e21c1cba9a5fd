"""Searches: trials sampled from a space, run as ordinary jobs, the losers stopped early.

The search's state is in the database and every decision is taken under the search row's lock
(an UPDATE, as a batch's dispatch takes its own) and written as a row with a unique key:

- ``fill`` starts trials while fewer than ``max_parallel`` run and the budget allows; trial
  ``number`` is ``search.trials_started``, incremented in the same transaction that creates the
  trial's row and its job, so a retry after a crash finds it started and starts the next one.
- ``on_epoch`` (called by services/epochs.py in the transaction that records the epoch) judges a
  trial at a rung once: the ``(search, epoch, number)`` row holds the decision, and a trial that
  re-trains the epoch after a resume meets the decision already taken.
- ``after_trial`` (the worker's ``dispatch_after`` when a job ends, and the recovery sweep for
  any the worker did not report) gives the trial its place in the order results arrived,
  conditional on it having none, then fills the free slot.

A stopped trial is cancelled through the job's own cancel (services/jobs.py), so it keeps its
epochs, its model and its checkpoint, and says why in ``stop_reason``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from core.errors import Conflict, InvalidInput, NotFound
from core.settings import Settings
from core.statuses import FINISHED
from models import EpochRecord, Job, JobStatus, Search, SearchRung, SearchTrial
from models.base import utcnow
from services import early_stopping, jobs, search_samplers, search_space, specs, sweeps
from services.queue import Broker
from training.spec import JobSpec

RUNNING = "running"
EPOCH_COLUMNS = ("loss", "accuracy", "val_loss", "val_accuracy")


def minimizes(metric: str, direction: str | None) -> bool:
    """minimize unless told otherwise, or unless the metric is an accuracy."""
    if direction is not None:
        return direction == "minimize"
    return not metric.endswith("accuracy")


def create(
    session: Session,
    spec: dict[str, Any],
    *,
    name: str | None,
    owner: str,
    settings: Settings,
    broker: Broker,
) -> Search:
    """The search row, and its first trials (their messages leave on commit). ``spec`` is the
    checked search (see ``api/routes/searches.py``): base, space, metric, direction, sampler,
    budget and stopping rule with its rungs."""
    jobs.check_name(name, "name")
    now = utcnow()
    search = Search(
        name=name, owner=owner, spec=spec, seed=spec["sampler"]["seed"], status=RUNNING,
        trials_started=0, results=0, created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(search)
    session.flush()
    fill(session, search.id, broker, settings)
    return search


def get(session: Session, search_id: str, owner: str | None = None) -> Search:
    search = session.get(Search, search_id)
    if search is None or (owner is not None and search.owner != owner):
        raise NotFound(
            f"no search with id {search_id!r}",
            fix="use the id POST /v1/searches returned, or list searches with GET /v1/searches",
            code="search_not_found",
        )
    return search


def page(
    session: Session, *, limit: int, offset: int, owner: str | None = None
) -> tuple[Sequence[Search], int]:
    mine = [Search.owner == owner] if owner is not None else []
    total = session.scalar(select(func.count()).select_from(Search).where(*mine)) or 0
    found = session.scalars(
        select(Search)
        .where(*mine)
        .order_by(Search.created_at.desc(), Search.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return found, total


def _lock(session: Session, search_id: str) -> Search | None:
    """Take the search row's write lock for the rest of the transaction, and read it fresh."""
    locked = session.execute(
        update(Search).where(Search.id == search_id).values(updated_at=utcnow())
    )
    if locked.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.get_one(Search, search_id, populate_existing=True)


def trials_of(session: Session, search_id: str) -> Sequence[SearchTrial]:
    return session.scalars(
        select(SearchTrial).where(SearchTrial.search_id == search_id).order_by(SearchTrial.number)
    ).all()


def epochs_spent(session: Session, search_id: str) -> int:
    """Epochs trained by the search's trials (epoch 0, the untrained model, is free)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(EpochRecord)
            .join(SearchTrial, SearchTrial.job_id == EpochRecord.job_id)
            .where(SearchTrial.search_id == search_id, EpochRecord.epoch >= 1)
        )
        or 0
    )


def _in_flight(session: Session, search_id: str) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(SearchTrial)
            .join(Job, Job.id == SearchTrial.job_id)
            .where(SearchTrial.search_id == search_id, Job.status.not_in(FINISHED))
        )
        or 0
    )


def fill(
    session: Session, search_id: str, broker: Broker, settings: Settings | None = None
) -> list[str]:
    """Start trials up to ``max_parallel`` and the budget; end the search once nothing runs and
    nothing more may start. Safe to call any number of times, from any process."""
    search = _lock(session, search_id)
    if search is None or search.status != RUNNING:
        return []
    settings = settings or broker.settings
    spec = search.spec
    in_flight = _in_flight(session, search_id)
    budget = spec.get("max_epochs_total")
    spent = epochs_spent(session, search_id) if budget else 0
    started: list[str] = []
    while (
        in_flight + len(started) < spec["max_parallel"]
        and search.trials_started < spec["max_trials"]
        and not (budget and spent >= budget)
    ):
        job_id = _start_trial(session, search, settings, broker)
        if job_id is None:
            return started  # the search failed
        started.append(job_id)
    if in_flight + len(started) == 0:
        _finish(session, search)
    session.flush()
    return started


def _start_trial(
    session: Session, search: Search, settings: Settings, broker: Broker
) -> str | None:
    spec = search.spec
    dimensions = search_space.parse(spec["space"])
    number = search.trials_started
    params = search_samplers.sample(
        spec["sampler"]["type"], dimensions, search.seed, number, history(session, search),
        minimize=spec["direction"] == "minimize",
    )  # fmt: skip
    item = search_space.with_params(spec["base"], dimensions, params)
    label = sweeps.name_of({}, params, None, None) or ""
    item["name"] = f"{search.name or 'search'} #{number} {label}"[: sweeps.NAME_MAX_CHARS]
    try:
        checked = specs.check(session, JobSpec.model_validate(item), settings, search.owner)
        job = jobs.create(
            session, checked.spec, settings, owner=search.owner, **specs.job_details(checked)
        )
    except (InvalidInput, ValidationError) as error:  # its data set went away since, say
        search.status = "failed"
        search.error = f"trial {number} could not start: {error}"[:2000]
        search.finished_at = utcnow()
        return None
    session.add(
        SearchTrial(
            search_id=search.id, number=number, job_id=job.id, params=params,
            asked_after=search.results, created_at=utcnow(),
        )
    )  # fmt: skip
    search.trials_started = number + 1
    broker.send_after_commit(session, job.id, job.queue)
    return job.id


def history(session: Session, search: Search) -> list[search_samplers.Result]:
    """The results the search has, in the order they arrived: what the next trial is told."""
    arrived = session.scalars(
        select(SearchTrial)
        .where(SearchTrial.search_id == search.id, SearchTrial.arrival.is_not(None))
        .order_by(SearchTrial.arrival)
    ).all()
    rungs: dict[int, dict[int, float]] = {}
    for rung in session.scalars(select(SearchRung).where(SearchRung.search_id == search.id)):
        if rung.value is not None:
            rungs.setdefault(rung.number, {})[rung.epoch] = rung.value
    return [
        search_samplers.Result(
            t.params, t.value, t.stopped_at_epoch is not None, rungs.get(t.number, {})
        )
        for t in arrived
    ]


def _finish(session: Session, search: Search) -> None:
    """Nothing runs and nothing more starts: succeeded if a trial has a value, else failed."""
    has_value = session.scalar(
        select(func.count())
        .select_from(SearchTrial)
        .where(SearchTrial.search_id == search.id, SearchTrial.value.is_not(None))
    )
    search.status = "succeeded" if has_value else "failed"
    if not has_value:
        search.error = f"no trial recorded a value of {search.spec['metric']}"
    search.finished_at = utcnow()


def trial_of(session: Session, job_id: str) -> SearchTrial | None:
    return session.scalar(select(SearchTrial).where(SearchTrial.job_id == job_id))


def value_at(session: Session, job_id: str, metric: str, minimize: bool, upto: int | None = None):  # type: ignore[no-untyped-def]
    """The job's best value of ``metric`` over epochs 1..``upto`` (all if None), and its epoch."""
    rows = session.scalars(
        select(EpochRecord).where(
            EpochRecord.job_id == job_id,
            EpochRecord.epoch >= 1,
            *([EpochRecord.epoch <= upto] if upto is not None else []),
        )
    ).all()
    return early_stopping.best([(r.epoch, metric_of(r, metric)) for r in rows], minimize)


def metric_of(record: EpochRecord, metric: str) -> float | None:
    if metric in EPOCH_COLUMNS:
        return getattr(record, metric)  # type: ignore[no-any-return]
    value = (record.metrics or {}).get(metric)
    return float(value) if isinstance(value, int | float) else None


def on_epoch(session: Session, job_id: str, epoch: int) -> None:
    """A job recorded an epoch: if it is a search's trial at one of its rungs (or past the
    search's epoch budget), decide once whether it goes on; stop it if not."""
    trial = trial_of(session, job_id)
    if trial is None or epoch < 1:
        return
    search = session.get(Search, trial.search_id)
    if search is None:
        return
    spec = search.spec
    rule = spec["early_stopping"]
    minimize = spec["direction"] == "minimize"
    value, best_epoch = value_at(session, job_id, spec["metric"], minimize, epoch)
    trial.value, trial.best_epoch = value, best_epoch  # the leaderboard's "best so far"
    budget = spec.get("max_epochs_total")
    if epoch >= spec["epochs"] or (not budget and epoch not in rule.get("rungs", [])):
        return  # nothing to decide: the search's row is locked only where there is
    search = _lock(session, trial.search_id)  # decisions at one rung are taken one at a time
    if search is None or search.status != RUNNING:
        return
    if budget and epochs_spent(session, search.id) >= budget:
        reason = f"stopped at epoch {epoch}: the search's epoch budget is spent"
        _stop(session, trial, epoch, reason)
        return
    if epoch not in rule.get("rungs", []):
        return
    taken = session.get(SearchRung, (search.id, epoch, trial.number))
    if taken is None:
        peers = session.scalars(
            select(SearchRung.value).where(
                SearchRung.search_id == search.id, SearchRung.epoch == epoch
            )
        ).all()
        decision = early_stopping.decide(
            rule["type"], epoch, value, peers, minimize=minimize,
            reduction_factor=rule["reduction_factor"], metric=spec["metric"],
        )  # fmt: skip
        taken = SearchRung(
            search_id=search.id, epoch=epoch, number=trial.number, value=value,
            decision="stop" if decision.stop else "continue", at=utcnow(),
        )  # fmt: skip
        session.add(taken)
        session.flush()
        if decision.stop:
            _stop(session, trial, epoch, decision.reason or "stopped early")
    elif taken.decision == "stop" and trial.stopped_at_epoch is None:
        _stop(session, trial, epoch, f"stopped early at epoch {epoch}")


def _stop(session: Session, trial: SearchTrial, epoch: int, reason: str) -> None:
    trial.stopped_at_epoch = epoch
    trial.stop_reason = reason
    jobs.stop(session, trial.job_id, utcnow())


def after_trial(session: Session, job_id: str, broker: Broker) -> list[str]:
    """A job ended (or could not run): if it is a trial, record its result's arrival once, then
    fill the search's free slots."""
    trial = trial_of(session, job_id)
    if trial is None:
        return []
    search = _lock(session, trial.search_id)
    if search is None:
        return []
    arrive(session, search, trial)
    return fill(session, search.id, broker)


def arrive(session: Session, search: Search, trial: SearchTrial) -> bool:
    """Give a finished trial its place in the arrival order, once (conditional on none)."""
    status = session.scalar(select(Job.status).where(Job.id == trial.job_id))
    if status not in FINISHED:
        return False
    minimize = search.spec["direction"] == "minimize"
    value, best_epoch = value_at(session, trial.job_id, search.spec["metric"], minimize)
    moved = session.execute(
        update(SearchTrial)
        .where(
            SearchTrial.search_id == search.id,
            SearchTrial.number == trial.number,
            SearchTrial.arrival.is_(None),
        )
        .values(arrival=search.results, value=value, best_epoch=best_epoch)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return False
    search.results += 1
    session.flush()
    session.refresh(trial)
    return True


def nudge(session: Session, broker: Broker, settings: Settings) -> list[str]:
    """The recovery sweep's part: record results the worker did not (it died between a job's
    end and its report) and fill free slots of every running search."""
    started: list[str] = []
    for search_id in session.scalars(select(Search.id).where(Search.status == RUNNING)).all():
        search = _lock(session, search_id)
        if search is None:
            continue
        unreported = session.scalars(
            select(SearchTrial)
            .join(Job, Job.id == SearchTrial.job_id)
            .where(
                SearchTrial.search_id == search_id,
                SearchTrial.arrival.is_(None),
                Job.status.in_(FINISHED),
            )
            .order_by(Job.finished_at, SearchTrial.number)
        ).all()
        for trial in unreported:
            arrive(session, search, trial)
        started += fill(session, search_id, broker, settings)
    return started


def cancel(session: Session, search_id: str, owner: str | None = None) -> Search:
    """No further trial starts; queued trials are cancelled, running ones asked to stop."""
    get(session, search_id, owner)
    search = _lock(session, search_id)
    assert search is not None
    if search.status != RUNNING:
        if search.status == "cancelled":
            return search
        raise Conflict(
            f"search {search_id!r} already finished with status {search.status!r}",
            fix="nothing to cancel; to search again, submit it again with POST /v1/searches",
            code="search_finished",
        )
    now = utcnow()
    search.status, search.cancelled_at, search.finished_at = "cancelled", now, now
    for trial in trials_of(session, search_id):
        jobs.stop(session, trial.job_id, now)
    session.flush()
    return search


def view(session: Session, search: Search) -> dict[str, Any]:
    """The search as ``GET /v1/searches/{id}`` shows it."""
    trials = trials_of(session, search.id)
    job_ids = [t.job_id for t in trials]
    statuses = dict(
        session.execute(select(Job.id, Job.status).where(Job.id.in_(job_ids))).tuples().all()
    )
    done = dict(
        session.execute(
            select(EpochRecord.job_id, func.max(EpochRecord.epoch))
            .where(EpochRecord.job_id.in_(job_ids))
            .group_by(EpochRecord.job_id)
        )
        .tuples()
        .all()
    )
    spec = search.spec
    minimize = spec["direction"] == "minimize"
    rows = [
        {
            "number": t.number,
            "job_id": t.job_id,
            "params": t.params,
            "status": statuses.get(t.job_id),
            "value": t.value,
            "best_epoch": t.best_epoch,
            "epochs_done": done.get(t.job_id, -1),
            "stopped_early": t.stopped_at_epoch is not None,
            "stopped_at_epoch": t.stopped_at_epoch,
            "stop_reason": t.stop_reason,
        }  # fmt: skip
        for t in trials
    ]
    ranked = leaderboard(rows, minimize)
    best = ranked[0] if ranked else None
    arrived = sorted((t for t in trials if t.arrival is not None), key=lambda t: t.arrival or 0)
    return {
        "id": search.id,
        "name": search.name,
        "status": search.status,
        "error": search.error,
        "metric": spec["metric"],
        "direction": spec["direction"],
        "sampler": spec["sampler"],
        "early_stopping": spec["early_stopping"],
        "space": spec["space"],
        "budget": {
            "max_trials": spec["max_trials"],
            "trials_started": search.trials_started,
            "max_parallel": spec["max_parallel"],
            "max_epochs_total": spec.get("max_epochs_total"),
            "epochs_spent": epochs_spent(session, search.id),
            "epochs_per_trial": spec["epochs"],
        },
        "trials": rows,
        "best": {k: best[k] for k in ("number", "job_id", "value", "best_epoch", "params")}
        if best
        else None,
        "arrival_order": [t.number for t in arrived],
        "created_at": search.created_at,
        "finished_at": search.finished_at,
    }


def leaderboard(rows: list[dict[str, Any]], minimize: bool) -> list[dict[str, Any]]:
    """Trials with a value, best first (ties: the earlier trial)."""
    scored = [r for r in rows if r["value"] is not None]
    return sorted(scored, key=lambda r: (r["value"] if minimize else -r["value"], r["number"]))


def stopped_early(settings: Settings, job_id: str) -> bool:
    """Whether the job is a trial this search stopped early: its worker keeps its checkpoint,
    so that its owner can resume it (``resume``)."""
    from models.db import session_scope

    with session_scope(settings.resolved_database_url) as session:
        trial = trial_of(session, job_id)
        return trial is not None and trial.stopped_at_epoch is not None


def resume(
    session: Session, search_id: str, number: int, broker: Broker, owner: str | None
) -> SearchTrial:
    """Train a trial stopped early on from its last checkpoint, to its last epoch: its owner
    disagreed with the rung. Its model of the epoch it stopped at is replaced when it ends."""
    from models import TrainedModel

    get(session, search_id, owner)
    trial = session.get(SearchTrial, (search_id, number))
    if trial is None:
        raise NotFound(
            f"search {search_id!r} has no trial {number}",
            fix="trial numbers are listed under trials in GET /v1/searches/{id}",
            code="trial_not_found",
        )
    job = session.get_one(Job, trial.job_id)
    if trial.stopped_at_epoch is None or job.checkpoint_key is None:
        raise Conflict(
            f"trial {number} was not stopped early with a checkpoint kept (its job is "
            f"{job.status}); only such a trial can be resumed",
            fix="resume a trial whose stopped_early is true and whose job has ended",
            code="trial_not_resumable",
        )
    now = utcnow()
    if not jobs.move(
        session, job.id, JobStatus.cancelled, JobStatus.queued, now,
        finished_at=None, final_metrics=None, enqueued_at=now,
    ):  # fmt: skip
        raise Conflict(
            f"trial {number}'s job is {job.status}, not cancelled; it cannot be resumed now",
            fix="wait until it has ended, then resume it",
            code="trial_not_resumable",
        )
    session.execute(delete(TrainedModel).where(TrainedModel.id == job.id))
    trial.stop_reason = f"{trial.stop_reason}; resumed by its owner"
    trial.stopped_at_epoch = None  # it trains to the end now: its checkpoint goes when it ends
    broker.send_after_commit(session, job.id, job.queue)
    session.flush()
    return trial
