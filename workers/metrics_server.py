"""The worker parent's side of its metrics: the multiprocess directory and the HTTP port.

Every job runs in a fresh pool child that exits after it, so the children record into files
(prometheus_client's multiprocess mode) and the parent, which lives as long as the worker,
serves their sum on ``DESCENT_WORKER_METRICS_PORT``. Each worker keeps its files in a folder of
its own, ``worker-<pid>``, under ``PROMETHEUS_MULTIPROC_DIR`` if that is set, else under
``DESCENT_HOME/metrics``: several workers on one host (or a worker beside an API process that
sets ``PROMETHEUS_MULTIPROC_DIR`` for itself) never add up or delete each other's values.

Children that have exited leave two kinds of file behind. Their counters and histograms keep
counting (that is the point), but one set of files per job would make every scrape slower, so
before each scrape the files of dead children are merged into one (``compact``). Their live
gauges (GPU memory) are removed, even when a child was killed before it could say so.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

from core.settings import Settings

log = logging.getLogger(__name__)

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
FOLDER_PREFIX = "worker-"
MERGED = "merged"  # the pid part of the merged files' names: counter_merged.db
SUMMED = ("counter", "histogram")  # the file kinds whose values add up across processes


def prepare(settings: Settings) -> Path:
    """In the parent, before the pool forks its first child: make this worker's folder, point
    the children at it and take the stale folders of dead workers away."""
    # The variable is prometheus_client's own switch into multiprocess mode, read from the
    # environment by the library itself; the children inherit it from here.
    given = os.environ.get(VARIABLE)
    base = Path(given) if given else settings.resolved_home / "metrics"
    base.mkdir(parents=True, exist_ok=True)
    for stale in base.glob(f"{FOLDER_PREFIX}*"):
        pid = stale.name.removeprefix(FOLDER_PREFIX)
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    folder = base / f"{FOLDER_PREFIX}{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    os.environ[VARIABLE] = str(folder)
    values = sys.modules.get("prometheus_client.values")
    if values is not None:  # imported already: it chose its mode then; choose again
        values.ValueClass = values.get_value_class()  # type: ignore[attr-defined]
    return folder


def serve(settings: Settings) -> Any:
    """Serve the children's metrics on the configured port (0: off); None if not serving. A
    port already taken is logged, not fatal: the worker trains on without its metrics."""
    port = settings.worker_metrics_port
    if port == 0:
        log.info("worker metrics are off (DESCENT_WORKER_METRICS_PORT=0)")
        return None
    from prometheus_client import CollectorRegistry, start_http_server

    registry = CollectorRegistry(auto_describe=False)
    registry.register(ChildrenCollector(Path(os.environ[VARIABLE])))
    try:
        server, _thread = start_http_server(
            port, addr=settings.worker_metrics_host, registry=registry
        )
    except OSError as error:
        log.error(
            "could not serve worker metrics on %s:%s (%s); the worker trains on without them. "
            "Give each worker on this host its own DESCENT_WORKER_METRICS_PORT, or 0 for none",
            settings.worker_metrics_host,
            port,
            error,
        )
        return None
    log.info("worker metrics on http://%s:%s/metrics", settings.worker_metrics_host, port)
    return server


def remove(folder: Path) -> None:
    """The worker is stopping: its folder goes (a restarted worker counts from zero)."""
    shutil.rmtree(folder, ignore_errors=True)


class ChildrenCollector:
    """prometheus_client's MultiProcessCollector over ``folder``, tidied before each scrape."""

    def __init__(self, folder: Path) -> None:
        from prometheus_client import multiprocess

        self._folder = folder
        self._collector = multiprocess.MultiProcessCollector(None, path=str(folder))
        self._lock = threading.Lock()  # scrapes may overlap; two compactions must not

    def collect(self) -> Any:
        with self._lock:
            try:
                forget_dead_children(self._folder)
                compact(self._folder)
            except Exception:
                log.warning("could not tidy %s; serving it as it is", self._folder, exc_info=True)
            return list(self._collector.collect())


def forget_dead_children(folder: Path) -> None:
    """Remove the live-gauge files of children that are gone, however they went."""
    from prometheus_client import multiprocess

    for pid in {_pid(path) for path in folder.glob("gauge_live*_*.db")}:
        if pid is not None and not _alive(pid):
            multiprocess.mark_process_dead(pid, str(folder))


def compact(folder: Path) -> None:
    """Merge the counter and histogram files of dead children into ``<kind>_merged.db``: the
    sums a scrape serves stay the same, and the folder holds a few files, not a set per job."""
    from prometheus_client.mmap_dict import MmapedDict

    for kind in SUMMED:
        dead = [
            path
            for path in folder.glob(f"{kind}_*.db")
            if (pid := _pid(path)) is not None and not _alive(pid)
        ]
        if not dead:
            continue
        merged = folder / f"{kind}_{MERGED}.db"
        totals: dict[str, float] = defaultdict(float)
        for path in [merged, *dead] if merged.exists() else dead:
            for key, value, _timestamp, _pos in MmapedDict.read_all_values_from_file(str(path)):
                totals[key] += value
        # Written beside, then renamed over: a scrape never reads a half-written file. (A
        # worker killed between the rename and the deletions below would count those files
        # twice; it restarts with a fresh folder anyway.)
        partial = folder / f"{kind}_{MERGED}.partial"
        partial.unlink(missing_ok=True)
        out = MmapedDict(str(partial))
        try:
            for key, value in totals.items():
                out.write_value(key, value, 0.0)
        finally:
            out.close()
        os.replace(partial, merged)
        for path in dead:
            path.unlink(missing_ok=True)


def _pid(path: Path) -> int | None:
    """The pid in a multiprocess file's name (``counter_1234.db``); None for a merged file."""
    last = path.stem.rsplit("_", 1)[-1]
    return int(last) if last.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
