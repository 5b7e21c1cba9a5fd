"""The embedded default: the API and one Celery worker on one machine, no external services."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from core.settings import Settings
from services.placement import CPU_WORKER_QUEUES

log = logging.getLogger("descent")

WORKER_STOP_SECONDS = 15
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the forked child before exec: the kernel sends SIGTERM if the server dies, even by
    SIGKILL, so a worker is never left behind without its server (Linux only)."""
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


_libc_name = ctypes.util.find_library("c") if sys.platform == "linux" else None
_prctl = ctypes.CDLL(_libc_name, use_errno=True).prctl if _libc_name else None


def worker_command(
    concurrency: int = 1,
    loglevel: str = "INFO",
    queues: tuple[str, ...] = CPU_WORKER_QUEUES,
    name: str = "descent",
) -> list[str]:
    # The SQLAlchemy transport has no fanout exchange, so gossip and mingle (broadcast-based)
    # are off; they only matter for remote control between many workers anyway.
    return [
        sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker",
        "--pool=prefork", f"--concurrency={concurrency}", f"--loglevel={loglevel}",
        "--without-gossip", "--without-mingle", f"--hostname={name}@%h",
        f"--queues={','.join(queues)}",
    ]  # fmt: skip


def gpu_environment(gpus: int) -> dict[str, str]:
    """What a worker with ``gpus`` GPUs exports for its children (see workers/devices.py)."""
    return {"DESCENT_WORKER_GPUS": ",".join(str(i) for i in range(gpus))} if gpus else {}


def metrics_environment(settings: Settings) -> dict[str, str]:
    """The embedded worker's metrics port, bound where the server binds unless told otherwise
    (loopback by default, like the API)."""
    given = "worker_metrics_host" in settings.model_fields_set
    return {
        "DESCENT_WORKER_METRICS_PORT": str(settings.worker_metrics_port),
        "DESCENT_WORKER_METRICS_HOST": settings.worker_metrics_host if given else settings.host,
    }


class Worker:
    """A Celery worker subprocess in its own process group, restarted if it dies."""

    def __init__(self, settings: Settings, project_root: Path, gpus: int = 0) -> None:
        # On a machine with a GPU, the one embedded worker trains on GPU 0 and takes gpu jobs too.
        self._queues = ("gpu", *CPU_WORKER_QUEUES) if gpus else CPU_WORKER_QUEUES
        self._env = {
            "TF_CPP_MIN_LOG_LEVEL": "2",
            **os.environ,
            "DESCENT_HOME": str(settings.resolved_home),
            **gpu_environment(min(gpus, 1)),
            **metrics_environment(settings),
        }
        self._cwd = project_root
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="worker-watch", daemon=True)

    def start(self) -> None:
        self._spawn()
        self._watcher.start()

    def _spawn(self) -> None:
        self._process = subprocess.Popen(
            worker_command(queues=self._queues),
            cwd=self._cwd,
            env=self._env,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - only calls prctl
        )
        log.info("started worker pid %s", self._process.pid)

    def _watch(self) -> None:
        while not self._stopping.wait(1.0):
            if self._process is not None and self._process.poll() is not None:
                log.error("worker exited with %s; starting a new one", self._process.returncode)
                self._spawn()

    def stop(self) -> None:
        self._stopping.set()
        process = self._process
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(WORKER_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
