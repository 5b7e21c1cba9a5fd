"""``descent worker``: a training worker only (production: the API and workers run apart)."""

from __future__ import annotations

import os

from core.settings import PROJECT_ROOT
from processes.embedded import gpu_environment, worker_command
from services.placement import CPU_WORKER_QUEUES, GPU_WORKER_QUEUES, QUEUES


def choose_queues(gpus: int, queues: str | None) -> tuple[str, ...]:
    """The queues to consume; ValueError saying why if the choice is not one a worker may make."""
    chosen = (
        tuple(q.strip() for q in queues.split(","))
        if queues
        else (GPU_WORKER_QUEUES if gpus else CPU_WORKER_QUEUES)
    )
    unknown = sorted(set(chosen) - set(QUEUES))
    if unknown:
        raise ValueError(
            f"queues {','.join(chosen)}: {unknown} are not queues (use {', '.join(QUEUES)})"
        )
    if gpus == 0 and "gpu" in chosen:
        raise ValueError(
            f"queues {','.join(chosen)}: only a worker with --gpus N may consume the gpu queue"
        )
    return chosen


def run(concurrency: int, gpus: int, queues: tuple[str, ...], name: str) -> None:
    """Replace this process with the Celery worker (it reads its settings at its own boot)."""
    os.chdir(PROJECT_ROOT)
    os.environ.update(gpu_environment(gpus))
    command = worker_command(gpus or concurrency, queues=queues, name=name)
    os.execv(command[0], command)
