"""What a spec check reports: refusals (the spec cannot train) and warnings (it can, badly)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from core.errors import InvalidInput, Problem

__all__ = ["Problem", "SpecError", "SpecWarning"]


@dataclass(frozen=True)
class SpecWarning:
    """A legal combination known to train badly: the job runs, and says why it may not learn."""

    field: str
    message: str
    # The diagnosis this spec is heading for, in training/diagnoses.py's vocabulary
    # ("vanishing_gradients", "diverged", ...): the run-time word for the same lesson.
    code: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


class SpecError(InvalidInput, ValueError):
    """The spec cannot train on this data set; ``problems`` says why, field by field."""

    title = "Invalid job spec"
    code = "spec_invalid"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(
            "; ".join(f"{p.field}: {p.message}" for p in problems),
            errors=[problem.as_dict() for problem in problems],
        )
        self.problems = problems
