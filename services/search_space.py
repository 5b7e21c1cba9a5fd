"""A search's space: spec fields by dotted path, each with the values it may take.

``{"optimizer.learning_rate": {"loguniform": [1e-4, 1e-1]}, "batch_size": {"choice": [32, 64]},
"model.layers[0].units": {"int": [16, 256]}, "dropout": {"uniform": [0, 0.5]}}``

Checked at submission, before any trial exists: each path is parsed as a batch's vary path is
(services/sweeps.py), and the values at its ends (every choice, both bounds of a range) are set
in the base one at a time and validated, so a space that can produce an invalid spec is refused
naming the path and the value that break it. Nothing is deep-copied: each probe copies only the
objects on its path.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from core.errors import InvalidInput
from services import sweeps

KINDS = ("choice", "uniform", "loguniform", "int")
MAX_CHOICES = 100
MAX_GRID = 500  # as many trials as a batch may hold jobs


@dataclass(frozen=True)
class Dimension:
    """One path of the space: ``kind`` and its ``values`` (the choices, or the two bounds)."""

    path: str
    parts: list[str | int]
    kind: str
    values: list[Any]

    def ends(self) -> list[Any]:
        """The values a check tries: every choice, or both bounds."""
        return list(self.values)

    def grid(self) -> Sequence[Any]:
        """The values a grid takes: the choices, or every integer of an int range (a range,
        so that a huge one is measured and refused, never built)."""
        if self.kind == "choice":
            return list(self.values)
        low, high = self.values
        return range(int(low), int(high) + 1)


def parse(space: dict[str, Any]) -> list[Dimension]:
    """The space's dimensions in the order given; InvalidInput naming ``space.<path>``."""
    if not space:
        raise _bad("space", "it is empty", "name at least one spec field to search over")
    sweeps.parse_paths(space)  # at most MAX_VARY_PATHS paths
    found = []
    for path, rule in space.items():
        parts = sweeps.parse_path(path)
        if not isinstance(rule, dict) or len(rule) != 1 or next(iter(rule)) not in KINDS:
            raise _bad(
                f"space.{path}",
                "it must be an object with one of " + ", ".join(KINDS),
                'e.g. {"loguniform": [0.0001, 0.1]} or {"choice": [32, 64, 128]}',
            )
        kind, values = next(iter(rule.items()))
        found.append(Dimension(path, parts, kind, _values(path, kind, values)))
    return found


def _values(path: str, kind: str, values: Any) -> list[Any]:
    field = f"space.{path}.{kind}"
    if kind == "choice":
        if not isinstance(values, list) or not 1 <= len(values) <= MAX_CHOICES:
            raise _bad(field, f"it must be a list of 1 to {MAX_CHOICES} values", "list the values")
        return values
    pair = isinstance(values, list) and len(values) == 2
    numbers = pair and all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values
    )
    if not numbers or values[0] >= values[1]:
        raise _bad(field, "it must be [low, high] with low < high", f'e.g. {{"{kind}": [1, 10]}}')
    if kind == "int" and not all(float(v).is_integer() for v in values):
        raise _bad(field, "its bounds must be integers", 'e.g. {"int": [16, 256]}')
    if kind == "loguniform" and values[0] <= 0:
        raise _bad(field, "its low bound must be above 0", '{"loguniform": [0.0001, 0.1]}')
    if kind == "int":
        return [int(values[0]), int(values[1])]
    return [float(values[0]), float(values[1])]


def with_params(
    base: dict[str, Any], dimensions: Sequence[Dimension], params: dict[str, Any]
) -> dict[str, Any]:
    """``base`` with each path set to its value (only the objects on each path are copied)."""
    spec = base
    for dimension in dimensions:
        if dimension.path in params:
            spec = sweeps.with_value(spec, dimension.path, dimension.parts, params[dimension.path])
    return spec


def probes(dimensions: Sequence[Dimension]) -> list[dict[str, Any]]:
    """The points a check validates: every dimension at its first end, then each end of each
    dimension in turn with the others at their first. Linear in the number of ends."""
    first = {d.path: d.ends()[0] for d in dimensions}
    found = [first]
    for dimension in dimensions:
        for value in dimension.ends()[1:]:
            found.append({**first, dimension.path: value})
    return found


def check(
    base: dict[str, Any],
    dimensions: Sequence[Dimension],
    validate: Callable[[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    """Refuse the space if a probe's spec is invalid: ``validate(spec)`` returns the spec's
    errors (``field`` and ``message`` each). The error names the search path (or paths) that
    set the value, and the value."""
    first = probes(dimensions)[0]
    for params in probes(dimensions):
        errors = validate(with_params(base, dimensions, params))
        if not errors:
            continue
        changed = [p for p in params if params[p] != first[p]] or list(params)
        shown = ", ".join(f"{p}={_short(params[p])}" for p in changed)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        raise InvalidInput(
            f"the space can produce an invalid spec: with {shown}, {detail}",
            fix="narrow the range or drop the choice named in errors (or correct base) and "
            "submit the search again",
            errors=[
                {
                    **e,
                    "field": f"space.{changed[0]}",
                    "spec_field": e["field"],
                    "value": params[changed[0]],
                }
                for e in errors[:5]
            ],  # fmt: skip
            code="search_space_invalid",
        )


def grid_size(dimensions: Sequence[Dimension]) -> int:
    return math.prod(len(d.grid()) for d in dimensions)


def grid_point(dimensions: Sequence[Dimension], seed: int, number: int) -> dict[str, Any]:
    """Point ``number`` of the grid, in an order shuffled by ``seed`` (all points, each once)."""
    points = list(itertools.product(*(range(len(d.grid())) for d in dimensions)))
    random.Random(seed).shuffle(points)
    chosen = points[number % len(points)]
    return {d.path: d.grid()[i] for d, i in zip(dimensions, chosen, strict=True)}


def check_grid(dimensions: Sequence[Dimension]) -> int:
    """The grid's size; refused if a dimension is continuous or the grid is too large."""
    for d in dimensions:
        if d.kind in ("uniform", "loguniform"):
            raise _bad(
                f"space.{d.path}",
                f"a grid cannot take a {d.kind} range",
                'list the values with "choice", or use the "random" or "tpe" sampler',
            )
        if len(d.grid()) > MAX_CHOICES:
            raise _bad(f"space.{d.path}", f"a grid takes at most {MAX_CHOICES} values per field",
                       "narrow the int range, or use the random or tpe sampler")  # fmt: skip
    size = grid_size(dimensions)
    if size > MAX_GRID:
        raise _bad("space", f"its grid has {size} points; at most {MAX_GRID} are allowed",
                   "take fewer values, or use the random or tpe sampler")  # fmt: skip
    return size


def _short(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


def _bad(field: str, reason: str, fix: str) -> InvalidInput:
    return InvalidInput(
        f"{field} is invalid: {reason}",
        fix=fix,
        errors=[{"field": field, "message": reason}],
        code="search_space_invalid",
    )
