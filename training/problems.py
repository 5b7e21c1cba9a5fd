"""What a spec check reports: refusals (the spec cannot train) and warnings (it can, badly)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One refusal: the field, what is wrong, what was found, what is allowed, how to fix it."""

    field: str
    message: str
    found: Any = None
    allowed: Any = None
    fix: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}


@dataclass(frozen=True)
class SpecWarning:
    """A legal combination known to train badly: the job runs, and says why it may not learn."""

    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


class SpecError(ValueError):
    """The spec cannot train on this data set; ``problems`` says why, field by field."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems
