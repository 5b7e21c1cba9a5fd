"""The sweep that recovers jobs, run by ``descent serve`` on a timer (see services/recovery.py).

It runs in the API process, not in a worker: the API runs in both the embedded mode and
production (``descent serve --no-worker``), it never imports TensorFlow, and a sweep is a few
short queries. Several API processes sweeping at once are safe (every change is conditional).
"""

from __future__ import annotations

import logging
import threading

from core.settings import Settings
from models.db import session_scope
from services import recovery

log = logging.getLogger("api.sweeper")


class Reconciler:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reconciler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()

    def sweep_once(self) -> recovery.Swept:
        with session_scope(self._settings.resolved_database_url) as session:
            swept = recovery.sweep(session, self._settings)
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
