"""The layer kinds described for a form: per kind its fields, their types, defaults and allowed
values, read from each kind's own pydantic schema. ``GET /v1/layers`` serves it to the page."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from typing_extensions import TypeAliasType

from training.layers import KINDS, Layer, LayerType

FieldType = TypeAliasType(
    "LayerFieldType",
    Literal["integer", "number", "boolean", "choice", "size", "sizes", "object"],
)


class LayerField(BaseModel):
    name: str
    label: str
    type: FieldType = Field(
        description="integer, number, boolean; choice (one of options); size (a number, or "
        "[height, width]); sizes (a list of integers); object (see the spec's schema)."
    )
    required: bool
    # A field's own type (a number, a name, a list...): see the kind's schema.
    default: Any = None
    options: list[str] | None = None
    example: Any = Field(default=None, description="A value to start a new layer's field with.")
    description: str | None = None
    in_form: bool = Field(description="Whether the page's form offers the field.")


class LayerKind(BaseModel):
    type: LayerType
    summary: str = Field(description='A few words on the kind, e.g. "convolution".')
    description: str
    fields: list[LayerField]


def catalog() -> list[LayerKind]:
    return [describe(name, kind) for name, kind in KINDS.items()]


def describe(name: str, kind: type[Layer]) -> LayerKind:
    schema = kind.model_json_schema()
    required = set(schema.get("required", ()))
    defs = schema.get("$defs", {})
    fields = [
        _field(field, _inlined(prop, defs), field in required, field in kind.form)
        for field, prop in schema["properties"].items()
        if field != "type"
    ]
    text = " ".join((kind.__doc__ or "").split())
    return LayerKind(type=name, summary=kind.summary, description=text, fields=fields)


def _field(name: str, prop: dict[str, Any], required: bool, in_form: bool) -> LayerField:
    examples = prop.get("examples") or [prop.get("default")]
    return LayerField(
        name=name,
        label=name.replace("_", " ").capitalize(),
        type=_type(prop),
        required=required,
        default=prop.get("default"),
        options=_options(prop),
        example=examples[0],
        description=prop.get("description"),
        in_form=in_form,
    )


def _inlined(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """``prop`` with each named set (``{"$ref": "#/$defs/Activation"}``) written in place."""
    if "$ref" in prop:
        named = defs.get(prop["$ref"].rsplit("/", 1)[-1], {})
        rest = {key: value for key, value in prop.items() if key != "$ref"}
        return {**named, **rest} if "enum" in named else prop
    for key in ("anyOf", "oneOf"):
        if key in prop:
            return {**prop, key: [_inlined(choice, defs) for choice in prop[key]]}
    return prop


def _choices(prop: dict[str, Any]) -> list[dict[str, Any]]:
    # A field that may be null is anyOf [its type, null].
    return [p for p in prop.get("anyOf", [prop]) if p.get("type") != "null"]


def _options(prop: dict[str, Any]) -> list[str] | None:
    choices = _choices(prop)
    if len(choices) == 1 and "enum" in choices[0]:
        return list(choices[0]["enum"])
    return None


def _type(prop: dict[str, Any]) -> FieldType:
    choices = _choices(prop)
    if [choice.get("type") for choice in choices] == ["integer", "array"]:
        return "size"  # a number n, the shorthand for [n, n]
    if len(choices) != 1:
        return "object"
    (choice,) = choices
    if "enum" in choice:
        return "choice"
    if choice.get("type") == "array":
        return "size" if "prefixItems" in choice else "sizes"
    if choice.get("type") in ("integer", "number", "boolean"):
        return choice["type"]
    return "object"
