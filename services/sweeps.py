"""Expand a sweep (a base spec, a grid of field values and seeds) into one spec per job.

Specs are handled here as plain JSON objects, before validation, so that any spec field can be
varied and each expanded item can then be validated (and refused) on its own.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from typing import Any

from core.errors import InvalidInput

MAX_ITEMS = 500
NAME_MAX_CHARS = 200
# A vary path names a spec field, a handful of levels deep; anything longer is refused before
# it is parsed or followed.
MAX_PATH_CHARS = 200
MAX_PATH_PARTS = 16
MAX_VARY_PATHS = 32

_SEGMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)$")


def expand(
    base: dict[str, Any], vary: dict[str, list[Any]], seeds: Sequence[int] | None
) -> list[dict[str, Any]]:
    """One spec per point of the grid and per seed; seeds outermost, so that a complete
    comparison (every arm with the first seed) comes first in the batch's order.

    Nothing is deep-copied: each item shares with ``base`` every part that no vary path
    touches (see ``points``), so a batch costs memory for what differs, not per item."""
    check_size(grid_size(vary) * len(seeds or [None]))
    grid = points(base, vary)
    items = []
    for seed in seeds or [None]:
        for values, spec in grid:
            items.append(seeded(spec, base, values, seed, seeds))
    return items


def grid_size(vary: dict[str, list[Any]]) -> int:
    return math.prod(len(values) for values in vary.values())


def points(
    base: dict[str, Any], vary: dict[str, list[Any]]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Each point of the grid: its values by path, and ``base`` with them set.

    Setting a value copies only the objects and lists on its path (copy on write): ``base``
    is left as it was, and each point shares the rest of it. Every path is parsed (and a bad
    one refused) before any point is built."""
    check_size(grid_size(vary))
    parsed = parse_paths(vary)
    found = []
    for values in itertools.product(*vary.values()):
        spec = base
        for path, value in zip(vary, values, strict=True):
            spec = with_value(spec, path, parsed[path], value)
        found.append((dict(zip(vary, values, strict=True)), spec))
    return found


def parse_paths(vary: dict[str, list[Any]]) -> dict[str, list[str | int]]:
    """Each vary path as its parts; at most MAX_VARY_PATHS of them."""
    if len(vary) > MAX_VARY_PATHS:
        raise InvalidInput(
            f"vary names {len(vary)} fields; at most {MAX_VARY_PATHS} may be varied in one batch",
            fix="vary fewer fields, or list the specs in full under specs",
            code="batch_too_large",
        )
    return {path: parse_path(path) for path in vary}


def seeded(
    spec: dict[str, Any],
    base: dict[str, Any],
    values: dict[str, Any],
    seed: int | None,
    seeds: Sequence[int] | None,
) -> dict[str, Any]:
    """A point of the grid as one item of the batch: its seed, and a name that says what it
    varies ("opt optimizer.name=adam seed=7")."""
    item = dict(spec)
    if seed is not None:
        item["seed"] = seed
    name = name_of(base, values, seed, seeds)
    if name is not None:
        item["name"] = name
    return item


def name_of(
    base: dict[str, Any], values: dict[str, Any], seed: int | None, seeds: Sequence[int] | None
) -> str | None:
    """The base's name followed by what this item varies, or None when it varies nothing."""
    label = " ".join(
        [f"{path}={_short(value)}" for path, value in values.items()]
        + ([f"seed={seed}"] if seed is not None and len(seeds or []) > 1 else [])
    )
    if not label:
        return None
    name = f"{base['name']} {label}" if base.get("name") else label
    return name[:NAME_MAX_CHARS]


def with_seeds(specs: list[dict[str, Any]], seeds: Sequence[int] | None) -> list[dict[str, Any]]:
    """Each listed spec once per seed (seeds outermost), or the specs as they are. The items
    share everything but their top level with the specs given."""
    if not seeds:
        check_size(len(specs))
        return specs
    check_size(len(specs) * len(seeds))
    return [{**spec, "seed": seed} for seed in seeds for spec in specs]


def check_size(total: int) -> None:
    if total > MAX_ITEMS:
        raise InvalidInput(
            f"this batch would create {total} jobs; at most {MAX_ITEMS} are allowed in one batch",
            fix="vary fewer fields or values, use fewer seeds, or split it into several batches",
            code="batch_too_large",
        )


def parse_path(path: str) -> list[str | int]:
    """``"model.layers[1].units"`` (or ``"model.layers.1.units"``) -> ``["model", "layers",
    1, "units"]``. At most MAX_PATH_CHARS characters and MAX_PATH_PARTS parts."""
    if len(path) > MAX_PATH_CHARS:
        raise _bad_path(path, f"it is longer than {MAX_PATH_CHARS} characters")
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
    if len(parts) > MAX_PATH_PARTS:
        raise _bad_path(path, f"it names more than {MAX_PATH_PARTS} levels")
    return parts


def with_value(
    spec: dict[str, Any], path: str, parts: Sequence[str | int], value: Any
) -> dict[str, Any]:
    """A copy of ``spec`` with the field at ``parts`` set to ``value``: only the objects and
    lists on the path are copied (shallowly), creating objects on the way."""
    top = dict(spec)
    node: Any = top
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
                child: Any = [] if isinstance(parts[depth + 1], int) else {}
            else:
                child = node[part]
                child = dict(child) if isinstance(child, dict) else child
                child = list(child) if isinstance(child, list) else child
            node[part] = child
            node = child
    return top


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
    path = path if len(path) <= MAX_PATH_CHARS else path[:MAX_PATH_CHARS] + "..."
    return InvalidInput(
        f"vary names the field {path!r}, which cannot be set: {reason}",
        fix='name spec fields by their dotted path, e.g. "optimizer.learning_rate" or '
        '"model.layers[1].units"',
        errors=[{"field": f"vary.{path}", "message": reason}],
        code="spec_invalid",
    )
