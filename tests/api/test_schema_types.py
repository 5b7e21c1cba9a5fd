"""The OpenAPI schema types every field the way a generated client needs: closed sets as named
enums, the spec's shorthands in what a request may send, defaults optional in requests and
present in answers, and a realistic example on every body that validates against its model."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel

from api.app import create_app
from api.schemas.batches import BatchCreate, BatchPublic
from api.schemas.datasets import DatasetPublic
from api.schemas.jobs import History, JobPublic
from api.schemas.specs import SpecCheck
from api.schemas.trained_models import ModelPublic
from core.settings import Settings
from core.statuses import JobStatus
from serving.cards import SCALINGS
from training.layer_specs import SIMPLE_INITIALIZERS
from training.layers import LAYER_TYPES
from training.optimizer_specs import OPTIMIZERS
from training.spec import JobSpec
from training.vocabulary import ACTIVATIONS, LOSSES, METRICS, TASKS

# The README's shorthands: a name for the optimizer, a number for the validation split, a
# number n for an [n, n] window, a name for a regularizer, a class index for a class name.
SHORTHAND_SPEC = {
    "dataset": {"name": "mnist", "validation": 0.2, "positive_classes": [7]},
    "model": {
        "layers": [
            {"type": "conv2d", "filters": 8, "kernel_size": 3, "kernel_regularizer": "l2"},
            {"type": "max_pool2d", "pool_size": 2},
            {"type": "flatten"},
            {"type": "dense", "units": 1, "activation": "sigmoid"},
        ]
    },
    "optimizer": "sgd",
}
MAIN_RESPONSES: dict[str, type[BaseModel]] = {
    "JobPublic": JobPublic,
    "History": History,
    "ModelPublic": ModelPublic,
    "BatchPublic": BatchPublic,
    "DatasetPublic": DatasetPublic,
    "SpecCheck": SpecCheck,
}
REQUESTS: dict[str, type[BaseModel]] = {"JobSpec-Input": JobSpec, "BatchCreate": BatchCreate}


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The document /openapi.json serves, built once for the module (reading it needs no
    database)."""
    settings = Settings(home=tmp_path_factory.mktemp("schema"), sweep=False)
    return json.loads(json.dumps(create_app(settings).openapi()))


def components(openapi: dict[str, Any]) -> dict[str, Any]:
    return openapi["components"]["schemas"]


def conforms(openapi: dict[str, Any], schema: dict[str, Any], value: Any) -> list[str]:
    """Why ``value`` does not fit ``schema`` (a node of the document), by JSON Schema's rules."""
    rooted = {**schema, "components": openapi["components"]}
    return [error.message for error in Draft202012Validator(rooted).iter_errors(value)]


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def test_every_job_status_field_is_the_job_status_enum(openapi: dict[str, Any]):
    schemas = components(openapi)
    assert schemas["JobStatus"]["enum"] == [status.value for status in JobStatus]
    for model in ("JobPublic", "TransitionPublic", "History", "BatchJob", "Standing"):
        assert schemas[model]["properties"]["status"]["$ref"] == ref("JobStatus")["$ref"], model
    assert schemas["JobStatuses"]["properties"]["statuses"]["items"] == ref("JobStatus")
    batch_statuses = schemas["BatchStatus"]["enum"]
    assert schemas["BatchSummary"]["properties"]["status"]["$ref"].endswith("/BatchStatus")
    assert set(batch_statuses) == set(JobStatus) - {JobStatus.cancelling}
    counts = schemas["StatusCounts"]
    assert list(counts["properties"]) == counts["required"] == [s.value for s in JobStatus]


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("Activation", ACTIVATIONS),
        ("Loss", LOSSES),
        ("Metric", METRICS),
        ("Task", TASKS),
        ("OptimizerName", OPTIMIZERS),
        ("InitializerName", SIMPLE_INITIALIZERS),
        ("LayerType", LAYER_TYPES),
        ("Padding", ("valid", "same")),
        ("RegularizerName", ("l1", "l2", "l1_l2")),
        ("Scaling", tuple(sorted(SCALINGS))),
    ],
)
def test_a_closed_set_is_one_named_enum(openapi: dict[str, Any], name: str, values: tuple):
    assert sorted(components(openapi)[name]["enum"]) == sorted(values)


def test_a_single_value_const_is_only_a_union_members_tag(openapi: dict[str, Any]):
    tags = {"type", "name", "schedule"}  # layers, optimizers and initializers, schedules
    for schema in components(openapi).values():
        for field, node in schema.get("properties", {}).items():
            if field not in tags:
                assert not any("const" in inner for inner in walk(node)), (schema["title"], field)


def test_every_default_fits_its_own_field(openapi: dict[str, Any]):
    # A default a generated client cannot read (a const "glorot_uniform" meeting "zeros")
    # breaks its from_dict on the answer the server sends.
    for name, schema in components(openapi).items():
        for field, node in schema.get("properties", {}).items():
            if "default" in node:
                assert not conforms(openapi, node, node["default"]), (name, field)


def test_the_shorthands_are_in_the_request_schema_and_not_in_the_answer(openapi: dict[str, Any]):
    schemas = components(openapi)
    assert not conforms(openapi, ref("JobSpec-Input"), SHORTHAND_SPEC)
    JobSpec.model_validate(SHORTHAND_SPEC)  # and the server takes it
    assert ref("OptimizerName") in schemas["JobSpec-Input"]["properties"]["optimizer"]["anyOf"]
    answer = schemas["JobSpec-Output"]["properties"]["optimizer"]
    assert ref("OptimizerName") not in answer.get("anyOf", [])
    assert conforms(openapi, ref("JobSpec-Output"), {**SHORTHAND_SPEC, "optimizer": "sgd"})


def test_a_request_requires_only_fields_without_defaults(openapi: dict[str, Any]):
    schemas = components(openapi)
    without_default = [name for name, field in JobSpec.model_fields.items() if field.is_required()]
    assert schemas["JobSpec-Input"]["required"] == without_default == ["dataset", "model"]
    assert schemas["SGD-Input"]["required"] == ["name"]
    # A request type states its defaults in words: openapi-typescript types a property with a
    # default as always present, which would make "epochs" required in a request.
    for name, schema in schemas.items():
        if name.endswith("-Input") or name in REQUESTS:
            assert not [f for f, node in schema["properties"].items() if "default" in node], name
    assert "Default: 5." in schemas["JobSpec-Input"]["properties"]["epochs"]["description"]
    assert schemas["JobSpec-Output"]["properties"]["epochs"]["default"] == 5


def test_an_answer_requires_every_field_the_server_always_writes(openapi: dict[str, Any]):
    schemas = components(openapi)
    for name in ("JobSpec-Output", "JobPublic", "History", "EpochPublic", "DatasetPublic"):
        assert set(schemas[name]["required"]) == set(schemas[name]["properties"]), name
    # Two classes of one title would be dropped by a generator that names classes by title.
    assert schemas["JobSpec-Input"]["title"] == "JobSpecInput"
    assert schemas["JobSpec-Output"]["title"] == "JobSpecOutput"


def test_every_json_request_body_and_main_answer_has_an_example(openapi: dict[str, Any]):
    schemas = components(openapi)
    bodies = [
        operation["requestBody"]["content"]["application/json"]
        for path in openapi["paths"].values()
        for operation in path.values()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    ]
    assert len(bodies) >= 5
    for body in bodies:
        schema = body["schema"]
        named = schemas[schema["$ref"].rsplit("/", 1)[-1]] if "$ref" in schema else schema
        assert body.get("examples") or named.get("examples"), schema
    for name in MAIN_RESPONSES:
        assert schemas[name].get("examples"), name


@pytest.mark.parametrize("name", [*REQUESTS, *MAIN_RESPONSES, "JobSpec-Output"])
def test_each_example_validates_against_its_model_and_its_schema(
    openapi: dict[str, Any], name: str
):
    model = {**REQUESTS, **MAIN_RESPONSES, "JobSpec-Output": JobSpec}[name]
    examples = components(openapi)[name]["examples"]
    for example in examples:
        model.model_validate(example)
        assert not conforms(openapi, ref(name), example)
