"""Three touches to the schema's components that FastAPI's own document cannot make.

- Titles: a model whose request and response schemas differ is written twice, as
  ``JobSpec-Input`` (shorthands accepted, defaults optional) and ``JobSpec-Output`` (the full
  form, every field present), both titled ``JobSpec``; generators that name classes by title
  (openapi-python-client) would make two classes of one name and drop both. Each is titled
  after its own name instead: ``JobSpecInput``, ``JobSpecOutput``.
- Request defaults: openapi-typescript (by default) types a property that has a ``default`` as
  always present, which is true of an answer but makes every defaulted field *required* in a
  request type. A schema only requests use states its defaults in words instead ("Default:
  5."), so that a client sends what its user chose and the server fills in the rest.
- Examples: FastAPI drops every null from the document, examples included, which would leave a
  required nullable field (a queued job's ``"error": null``) out of its example. The examples
  in ``api.schemas.examples`` are written in afterwards, whole.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

from api.schemas.examples import EXAMPLES

SUFFIXES = ("-Input", "-Output")
REF = "#/components/schemas/"


def describe(schema: dict[str, Any]) -> None:
    named = schema.get("components", {}).get("schemas", {})
    for name, definition in named.items():
        if name.endswith(SUFFIXES):
            definition["title"] = name.replace("-", "")
    for name in request_only(schema):
        defaults_in_words(named[name])
    for name, examples in EXAMPLES.items():
        if name in named:
            named[name]["examples"] = copy.deepcopy(examples)


def request_only(schema: dict[str, Any]) -> set[str]:
    """The components that some request body uses and no response does."""
    bodies, answers = [], []
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            bodies += _media(operation.get("requestBody", {}))
            answers += [m for r in operation.get("responses", {}).values() for m in _media(r)]
    return _reachable(schema, bodies) - _reachable(schema, answers)


def defaults_in_words(definition: dict[str, Any]) -> None:
    for prop in definition.get("properties", {}).values():
        if "default" not in prop:
            continue
        default = prop.pop("default")
        if default is not None:
            words = f"Default: {json.dumps(default)}."
            prop["description"] = (
                f"{prop['description']} {words}" if "description" in prop else words
            )


def _media(holder: dict[str, Any]) -> list[Any]:
    return [content.get("schema") for content in holder.get("content", {}).values()]


def _reachable(schema: dict[str, Any], roots: list[Any]) -> set[str]:
    named = schema.get("components", {}).get("schemas", {})
    found: set[str] = set()
    queue = list(roots)
    while queue:
        for ref in _refs(queue.pop()):
            name = ref.removeprefix(REF)
            if name not in found and name in named:
                found.add(name)
                queue.append(named[name])
    return found


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for key, value in node.items():
            if key != "examples":
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)
