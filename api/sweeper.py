"""The sweep that recovers jobs, run on a timer in the API's lifespan (see services/recovery.py).

It runs in the API process, not in a worker: the API runs in both the embedded mode and
production (``descent serve --no-worker``, or plain ``uvicorn api.app:create_app --factory``),
it never imports TensorFlow, and a sweep is a few short queries. Several API processes sweeping
at once are safe (every change is conditional); ``DESCENT_SWEEP=false`` turns it off.
"""

from __future__ import annotations

import logging
import threading

from api.metrics import ApiMetrics
from core.settings import Settings
from models.db import session_scope
from services import recovery
from services.queue import Broker

log = logging.getLogger("api.sweeper")


class Reconciler:
    def __init__(
        self, settings: Settings, broker: Broker, metrics: ApiMetrics | None = None
    ) -> None:
        self._settings = settings
        self._broker = broker
        self._metrics = metrics  # counts the jobs each sweep requeues
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reconciler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        """Ask the thread to stop and wait for a sweep under way to end."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def sweep_once(self) -> recovery.Swept:
        with session_scope(self._settings.resolved_database_url) as session:
            swept = recovery.sweep(session, self._settings, self._broker)
        if self._metrics:  # counted once committed: a sweep rolled back requeued nothing
            self._metrics.swept(swept)
        for what, ids in vars(swept).items():
            if ids:
                log.warning("reconciler: %s %s", what, ", ".join(ids))
        return swept

    def _run(self) -> None:
        while not self._stopping.wait(self._settings.reconcile_seconds):
            try:
                self.sweep_once()
            except Exception:
                log.exception("reconciler sweep failed; trying again next time")
