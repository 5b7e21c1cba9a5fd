"""The API's Prometheus metrics: what it counts, the middleware that times every request, and
what is read from the database and the broker when Prometheus scrapes ``GET /metrics``.

Each app holds its metric objects in a registry of its own (``app.state.metrics``), so apps
built side by side (tests, the overhead bench) count apart and never clash in
prometheus_client's process-wide default registry. No label holds an id: routes are path
templates (``/v1/jobs/{job_id}``), and workers, tasks, statuses and queues are few.

Requests are counted when their response ends, with the status it began with and the time from
the first byte in to the last byte out: a download counts its transfer, and an event stream
(``/v1/jobs/{job_id}/events``) is counted when it closes, its duration the stream's life. The
middleware is pure ASGI and passes every message on as it comes, so nothing is buffered.

Several API processes (``uvicorn --workers N``, gunicorn): set ``PROMETHEUS_MULTIPROC_DIR`` to
an empty directory the processes share, before they start. prometheus_client then keeps every
process's counts in files there and any one process answers the scrape for all of them
(``MultiProcessCollector``). The variable is the library's own and is read when it is first
imported, so it is read here from the environment too, not from ``Settings``: a setting could
not change what the library has already chosen.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models.base import utcnow
from services import monitoring
from services.placement import QUEUES
from services.queue import Broker

if TYPE_CHECKING:
    from services.recovery import Swept

log = logging.getLogger(__name__)

# Seconds: a single-image prediction takes about a millisecond, a large batch seconds.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
INSTANCE_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
CACHE_EVENTS = ("hit", "miss", "eviction")
BROKER_SECONDS = 2.0  # the longest a scrape waits for the broker's queue depths


class ApiMetrics:
    """One app's metric objects, and the registry ``GET /metrics`` exposes (``exposed``)."""

    def __init__(self, sessions: sessionmaker[Session], broker: Broker) -> None:
        self.registry = registry = CollectorRegistry()
        self.requests = Counter(
            "descent_http_requests", "HTTP requests answered, by route template, method and "
            "status.", ["route", "method", "status"], registry=registry,
        )  # fmt: skip
        self.request_seconds = Histogram(
            "descent_http_request_duration_seconds", "Time from a request's arrival to the "
            "end of its response, by route template and method.", ["route", "method"],
            buckets=LATENCY_BUCKETS, registry=registry,
        )  # fmt: skip
        self.predictions = Counter(
            "descent_predictions", "Prediction requests answered 200, by the model's task.",
            ["task"], registry=registry,
        )  # fmt: skip
        self.prediction_seconds = Histogram(
            "descent_prediction_duration_seconds", "Time to answer a prediction request "
            "(model lookup, parsing, inference, JSON), by task.", ["task"],
            buckets=LATENCY_BUCKETS, registry=registry,
        )  # fmt: skip
        self.prediction_instances = Histogram(
            "descent_prediction_instances", "Instances (images) per answered prediction "
            "request, by task.", ["task"], buckets=INSTANCE_BUCKETS, registry=registry,
        )  # fmt: skip
        model_cache = Counter(
            "descent_model_cache", "Loaded-model cache lookups and evictions: event = hit, "
            "miss or eviction.", ["event"], registry=registry,
        )  # fmt: skip
        self._cache_events = {event: model_cache.labels(event) for event in CACHE_EVENTS}
        recoveries = Counter(
            "descent_recoveries", "Jobs whose worker went silent, as the API's sweep found "
            "them: kind = requeued (sent back to their queue) or exhausted (failed: out of "
            "attempts).", ["kind"], registry=registry,
        )  # fmt: skip
        self._requeued = recoveries.labels("requeued")
        self._exhausted = recoveries.labels("exhausted")
        # Each label set's children, looked up once: labels() costs more than the counting.
        # Unlocked: two threads adding the same key store the same children.
        self._by_request: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self._by_task: dict[str, tuple[Counter, Histogram, Histogram]] = {}
        state = StateCollector(sessions, BrokerDepths(broker, BROKER_SECONDS))
        registry.register(state)
        self.exposed = registry
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # see the module's docstring
            self.exposed = CollectorRegistry()
            MultiProcessCollector(self.exposed)
            self.exposed.register(state)

    def request_done(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        if (children := self._by_request.get(key)) is None:
            children = self._by_request[key] = (
                self.requests.labels(route, method, str(status)),
                self.request_seconds.labels(route, method),
            )
        count, duration = children
        count.inc()
        duration.observe(seconds)

    def predicted(self, task: str, seconds: float, instances: int) -> None:
        if (children := self._by_task.get(task)) is None:
            children = self._by_task[task] = (
                self.predictions.labels(task),
                self.prediction_seconds.labels(task),
                self.prediction_instances.labels(task),
            )
        count, duration, size = children
        count.inc()
        duration.observe(seconds)
        size.observe(instances)

    def cache_event(self, event: str) -> None:
        """The model cache's hook (serving/sessions.py): hit, miss or eviction."""
        self._cache_events[event].inc()

    def swept(self, swept: Swept) -> None:
        """Count what a recovery sweep did to running jobs whose worker went silent: sent back
        to their queue, or failed past DESCENT_MAX_ATTEMPTS (only the sweep sees that end)."""
        self._requeued.inc(len(swept.resumed))
        self._exhausted.inc(len(swept.failed))


class RequestMetrics:
    """Pure ASGI middleware: counts and times every HTTP request once its response has ended."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers if the app raises before it starts a response

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "other"
            self.metrics.request_done(
                route_template(scope), method, status, time.perf_counter() - started
            )


def route_template(scope: Scope) -> str:
    """The path template of the route that answered (set on the scope by the router); "other"
    for a path no route matched, which includes the page's static files (one mount)."""
    path = getattr(scope.get("route"), "path", None)
    return path if path and hasattr(scope["route"], "endpoint") else "other"


class BrokerDepths:
    """The broker's queue depths, waited for at most ``timeout`` seconds.

    The broker is asked in a daemon thread: one that does not answer in time leaves the gauge
    out of this scrape, and later scrapes wait on that same question rather than asking again,
    so a stuck broker holds one thread, not one per scrape."""

    def __init__(self, broker: Broker, timeout: float) -> None:
        self._broker = broker
        self._timeout = timeout
        self._lock = threading.Lock()
        self._asking: tuple[threading.Thread, dict[str, dict[str, int]]] | None = None

    def __call__(self) -> dict[str, int] | None:
        with self._lock:
            if self._asking is None or not self._asking[0].is_alive():
                answer: dict[str, dict[str, int]] = {}
                thread = threading.Thread(
                    target=self._ask, args=(answer,), name="metrics-queue-depths", daemon=True
                )
                thread.start()
                self._asking = (thread, answer)
            thread, answer = self._asking
        thread.join(self._timeout)
        return answer.get("depths")

    def _ask(self, answer: dict[str, dict[str, int]]) -> None:
        try:
            answer["depths"] = self._broker.queue_depths(QUEUES, self._timeout)
        except Exception:
            log.warning("metrics: the broker did not give its queue depths", exc_info=True)


class StateCollector(Collector):
    """Gauges read when Prometheus scrapes: jobs by status and workers' heartbeat ages from
    the database, queue depths from the broker. A part that fails is left out of the scrape
    (and logged); the scrape itself still answers."""

    def __init__(self, sessions: sessionmaker[Session], depths: BrokerDepths) -> None:
        self._sessions = sessions
        self._depths = depths

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._from_database()
        depths = self._depths()
        if depths is not None:
            gauge = GaugeMetricFamily(
                "descent_queue_depth", "Messages waiting in each Celery queue.", labels=["queue"]
            )
            for queue, depth in depths.items():
                gauge.add_metric([queue], depth)
            yield gauge

    def _from_database(self) -> list[GaugeMetricFamily]:
        try:
            with self._sessions() as session:
                counts = monitoring.jobs_by_status(session)
                beats = monitoring.worker_heartbeats(session)
        except Exception:
            log.warning("metrics: the database did not answer", exc_info=True)
            return []
        jobs = GaugeMetricFamily("descent_jobs", "Jobs in each status.", labels=["status"])
        for status, count in counts.items():
            jobs.add_metric([status], count)
        ages = GaugeMetricFamily(
            "descent_worker_heartbeat_age_seconds",
            "Seconds since each worker holding a job last wrote its heartbeat (workers with "
            "no job are absent).",
            labels=["worker"],
        )
        now = utcnow()
        for worker, beat in beats.items():
            ages.add_metric([worker], max((now - beat).total_seconds(), 0.0))
        return [jobs, ages]
