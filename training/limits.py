"""Caps on what one job may ask for. The service fills them from settings (``DESCENT_MAX_*``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_layers: int = 64
    max_params: int = 10_000_000
    max_epochs: int = 1_000
    max_batch_size: int = 65_536
    max_activation_bytes: int = 4 * 2**30


DEFAULT_LIMITS = Limits()
NO_LIMITS = Limits(
    max_layers=2**62,
    max_params=2**62,
    max_epochs=2**62,
    max_batch_size=2**62,
    max_activation_bytes=2**62,
)
