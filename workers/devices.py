"""Which device a worker child trains on, and how TensorFlow is set up for it.

``descent worker --gpus N`` runs N pool children and exports ``DESCENT_WORKER_GPUS=0,1,...``;
each child, right after it is forked and before TensorFlow is imported, keeps only its own GPU
visible (``CUDA_VISIBLE_DEVICES``), chosen by the child's pool index, which Celery keeps when it
replaces a child after each job. A worker without GPUs hides them all, so that what it records
("cpu") is what it used.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess

GPUS_VARIABLE = "DESCENT_WORKER_GPUS"


def pin_child() -> str:
    """In a fresh pool child: make one GPU (or none) visible; returns the device name."""
    gpus = [g for g in os.environ.get(GPUS_VARIABLE, "").split(",") if g.strip()]
    if not gpus:
        os.environ["CUDA_VISIBLE_DEVICES"] = "-1"
        device = "cpu"
    else:
        from billiard.process import current_process

        index = getattr(current_process(), "index", 0) or 0
        gpu = gpus[index % len(gpus)].strip()
        os.environ["CUDA_VISIBLE_DEVICES"] = gpu
        device = f"gpu:{gpu}"
    os.environ["DESCENT_DEVICE"] = device
    return device


def grow_gpu_memory() -> None:
    """After TensorFlow is imported: take GPU memory as needed, not all of it up front."""
    import tensorflow as tf

    for gpu in tf.config.list_physical_devices("GPU"):
        tf.config.experimental.set_memory_growth(gpu, True)


def set_precision(precision: str) -> None:
    """The Keras dtype policy for the job about to be built (float32 or mixed_float16)."""
    import keras

    keras.mixed_precision.set_global_policy(precision)


def where() -> dict[str, str | None]:
    """What a claimed job records: the Celery worker's name, the host and the device."""
    from celery import current_task

    request = getattr(current_task, "request", None)
    return {
        "worker": getattr(request, "hostname", None),
        "host": socket.gethostname(),
        "device": os.environ.get("DESCENT_DEVICE", "cpu"),
    }


def count_gpus() -> int:
    """NVIDIA GPUs on this machine, without importing TensorFlow (0 without nvidia-smi)."""
    if shutil.which("nvidia-smi") is None:
        return 0
    try:
        listed = subprocess.run(
            ["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(1 for line in listed.stdout.splitlines() if line.startswith("GPU "))
