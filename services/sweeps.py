"""Expand a sweep (a base spec, a grid of field values and seeds) into one spec per job.

Specs are handled here as plain JSON objects, before validation, so that any spec field can be
varied and each expanded item can then be validated (and refused) on its own.
"""

from __future__ import annotations

import copy
import itertools
import math
import re
from collections.abc import Sequence
from typing import Any

from core.errors import InvalidInput

MAX_ITEMS = 500
NAME_MAX_CHARS = 200

_SEGMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)$")


def expand(
    base: dict[str, Any], vary: dict[str, list[Any]], seeds: Sequence[int] | None
) -> list[dict[str, Any]]:
    """One spec per point of the grid and per seed; seeds outermost, so that a complete
    comparison (every arm with the first seed) comes first in the batch's order."""
    total = math.prod(len(values) for values in vary.values()) * len(seeds or [None])
    check_size(total)
    items = []
    for seed in seeds or [None]:
        for values in itertools.product(*vary.values()):
            spec = copy.deepcopy(base)
            for path, value in zip(vary, values, strict=True):
                set_path(spec, path, copy.deepcopy(value))
            if seed is not None:
                spec["seed"] = seed
            label = " ".join(
                [f"{path}={_short(value)}" for path, value in zip(vary, values, strict=True)]
                + ([f"seed={seed}"] if seed is not None and len(seeds or []) > 1 else [])
            )
            if label:
                spec["name"] = f"{base['name']} {label}" if base.get("name") else label
                spec["name"] = spec["name"][:NAME_MAX_CHARS]
            items.append(spec)
    return items


def with_seeds(specs: list[dict[str, Any]], seeds: Sequence[int] | None) -> list[dict[str, Any]]:
    """Each listed spec once per seed (seeds outermost), or the specs as they are."""
    if not seeds:
        check_size(len(specs))
        return specs
    check_size(len(specs) * len(seeds))
    return [{**copy.deepcopy(spec), "seed": seed} for seed in seeds for spec in specs]


def check_size(total: int) -> None:
    if total > MAX_ITEMS:
        raise InvalidInput(
            f"this batch would create {total} jobs; at most {MAX_ITEMS} are allowed in one batch",
            fix="vary fewer fields or values, use fewer seeds, or split it into several batches",
            code="batch_too_large",
        )


def parse_path(path: str) -> list[str | int]:
    """``"model.layers[1].units"`` (or ``"model.layers.1.units"``) -> ``["model", "layers",
    1, "units"]``."""
    parts: list[str | int] = []
    for segment in path.split("."):
        if segment.isdigit():
            parts.append(int(segment))
            continue
        match = _SEGMENT.match(segment)
        if match is None:
            raise _bad_path(path, f"{segment!r} is not a field name")
        parts.append(match.group(1))
        parts.extend(int(index) for index in re.findall(r"\[(\d+)\]", match.group(2)))
    return parts


def set_path(spec: dict[str, Any], path: str, value: Any) -> None:
    """Set a field of a JSON spec by its dotted path, creating objects on the way."""
    parts = parse_path(path)
    node: Any = spec
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        where = _join(parts[:depth]) or "the spec"
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                raise _bad_path(path, f"{where} has no item [{part}]")
        elif not isinstance(node, dict):
            raise _bad_path(path, f"{where} is not an object, so it has no field {part!r}")
        if last:
            node[part] = value
        else:
            if isinstance(node, dict) and part not in node:
                node[part] = [] if isinstance(parts[depth + 1], int) else {}
            node = node[part]


def varied(specs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """For each spec, the fields (dotted paths) whose values differ between the specs, the
    name aside: what tells the jobs of a batch apart."""
    flat = [_flatten(spec) for spec in specs]
    paths: dict[str, None] = {}
    for item in flat:
        paths.update(dict.fromkeys(item))
    differing = [
        path
        for path in paths
        if path != "name" and len({repr(item.get(path)) for item in flat}) > 1
    ]
    everywhere = {path for path in differing if all(path in item for item in flat)}
    # A field only some specs have (momentum is sgd's, beta_1 adam's) follows from a sibling
    # that differs in all of them (optimizer.name): that sibling tells the jobs apart.
    explained = {path.rsplit(".", 1)[0] for path in everywhere if "." in path}
    differing = [
        path
        for path in differing
        if path in everywhere or "." not in path or path.rsplit(".", 1)[0] not in explained
    ]
    return [{path: item.get(path) for path in differing} for item in flat]


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, child in value.items():
            out.update(_flatten(child, f"{prefix}.{key}" if prefix else key))
        return out
    if isinstance(value, list) and value and all(isinstance(v, dict | list) for v in value):
        out = {}
        for index, child in enumerate(value):
            out.update(_flatten(child, f"{prefix}[{index}]"))
        return out
    return {prefix: value}


def _join(parts: Sequence[str | int]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _short(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


def _bad_path(path: str, reason: str) -> InvalidInput:
    return InvalidInput(
        f"vary names the field {path!r}, which cannot be set: {reason}",
        fix='name spec fields by their dotted path, e.g. "optimizer.learning_rate" or '
        '"model.layers[1].units"',
        errors=[{"field": f"vary.{path}", "message": reason}],
        code="spec_invalid",
    )
