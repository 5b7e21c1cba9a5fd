"""Every collection pages the same way (items, total, limit, offset, next) and takes the filters
users reach for; a query parameter a route does not take is a 422, never silently ignored.

No worker runs: statuses are moved through the services a worker uses, models registered as a
worker registers them."""

from typing import Any

from fastapi.testclient import TestClient

from core.settings import Settings
from models.db import session_scope
from services import jobs, trained_models
from tests.api.conftest import MNIST_SPEC, make_key
from tests.factories import job_spec

BUILT_IN = ["mnist", "asl"]


def as_worker(action, *args: Any) -> Any:
    with session_scope(Settings().resolved_database_url) as session:
        return action(session, *args)


def submit(client: TestClient, name: str | None = None, **spec: Any) -> dict[str, Any]:
    response = client.post("/v1/jobs", json={**MNIST_SPEC, "name": name, **spec})
    assert response.status_code == 202, response.text
    return response.json()


def listed(client: TestClient, path: str, **params: Any) -> list[Any]:
    """The names (ids, for models and unnamed jobs) a list route answers for ``params``."""
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return [item.get("name") or item["id"] for item in response.json()["items"]]


def every_page(client: TestClient, path: str) -> list[dict[str, Any]]:
    """Each page of a list, following ``next`` from ``path`` to the last page."""
    pages: list[dict[str, Any]] = []
    link: str | None = path
    while link is not None:
        response = client.get(link)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        link = pages[-1]["next"]
    return pages


def register_model(job_id: str, dataset: str = "mnist", task: str = "classification") -> None:
    """The model a worker registers for the job (its files are not needed to list it)."""
    as_worker(
        lambda session: trained_models.register(
            session, job_id, dataset=dataset, task=task, class_names=["0", "1"],
            input_shape=[28, 28, 1], scaling="divide_by_255", keras_key="x.keras",
            onnx_key="x.onnx",
        )
    )  # fmt: skip


# --- Paging ---------------------------------------------------------------------------------


def test_following_next_walks_every_filtered_job_once_with_the_total_on_each_page(
    client: TestClient,
):
    ids = [submit(client, f"dense {i}")["id"] for i in range(5)]
    submit(client, "conv")
    pages = every_page(client, "/v1/jobs?name=dense&limit=2")
    assert [len(page["items"]) for page in pages] == [2, 2, 1]
    assert [job["id"] for page in pages for job in page["items"]] == ids[::-1]
    assert {page["total"] for page in pages} == {5}
    assert [page["offset"] for page in pages] == [0, 2, 4]
    assert pages[0]["next"] == "/v1/jobs?name=dense&limit=2&offset=2"
    assert pages[-1]["next"] is None


def test_an_offset_past_the_end_is_an_empty_last_page(client: TestClient):
    submit(client, "only")
    page = client.get("/v1/jobs", params={"offset": 5}).json()
    assert (page["items"], page["total"], page["next"]) == ([], 1, None)


def test_a_limit_out_of_range_is_a_422_that_says_the_range(client: TestClient):
    response = client.get("/v1/jobs", params={"limit": 201})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "limit"
    assert response.json()["errors"][0]["allowed"] == "<= 200"


# --- Job filters and sorts ------------------------------------------------------------------


def test_jobs_filter_by_one_status_or_several(client: TestClient):
    _, failed, cancelled = (submit(client, name)["id"] for name in ("q", "f", "c"))
    as_worker(jobs.claim, failed)
    as_worker(jobs.fail, failed, "out of memory")
    client.post(f"/v1/jobs/{cancelled}/cancel")
    assert listed(client, "/v1/jobs", status="failed") == ["f"]
    assert listed(client, "/v1/jobs", status=["failed", "cancelled"]) == ["c", "f"]
    assert listed(client, "/v1/jobs", status="queued") == ["q"]


def test_an_unknown_status_is_a_422_listing_the_statuses(client: TestClient):
    response = client.get("/v1/jobs", params={"status": "suceeded"})
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "status[0]"
    assert "succeeded" in error["allowed"]


def test_a_name_filter_matches_any_case_and_reads_wildcards_literally(client: TestClient):
    for name in ("Dense_A", "densexa", "conv", None):
        submit(client, name)
    assert listed(client, "/v1/jobs", name="DENSE") == ["densexa", "Dense_A"]
    assert listed(client, "/v1/jobs", name="e_a") == ["Dense_A"]  # "_" is not "any letter"
    assert listed(client, "/v1/jobs", name="%") == []


def test_jobs_filter_by_the_data_set_their_spec_names(client: TestClient):
    submit(client, "digits")
    submit(client, "letters", **job_spec(dataset="asl", classes=24, limit=100, validation=None))
    assert listed(client, "/v1/jobs", dataset="asl") == ["letters"]
    assert listed(client, "/v1/jobs", dataset="mnist") == ["digits"]
    assert listed(client, "/v1/jobs", dataset="fashion") == []


def test_an_uploaded_data_set_finds_its_jobs_whether_they_named_it_or_gave_its_id(
    client: TestClient,
):
    line = {"name": "line", "task": "regression", "x": [[1], [2]], "y": [3, 5]}
    upload = client.post("/v1/datasets", json=line).json()
    regression = {
        "model": {"layers": [{"type": "dense", "units": 1}]},
        "loss": "mse",
        "optimizer": {"name": "sgd"},
    }
    for name, dataset in (("by name", "line"), ("by id", upload["id"])):
        submit(client, name, **regression, dataset={"name": dataset})
    submit(client, "digits")
    assert listed(client, "/v1/jobs", dataset="line") == ["by id", "by name"]
    assert listed(client, "/v1/jobs", dataset=upload["id"]) == ["by id", "by name"]


def test_jobs_filter_by_batch(client: TestClient):
    batch = client.post("/v1/batches", json={"specs": [MNIST_SPEC] * 2}).json()
    submit(client, "alone")
    found = client.get("/v1/jobs", params={"batch_id": batch["id"]}).json()
    assert found["total"] == 2
    assert {job["batch_id"] for job in found["items"]} == {batch["id"]}


def test_created_after_includes_its_moment_and_created_before_excludes_it(client: TestClient):
    first, second, third = (submit(client, name) for name in ("1st", "2nd", "3rd"))
    moment = second["created_at"]
    assert listed(client, "/v1/jobs", created_after=moment) == ["3rd", "2nd"]
    assert listed(client, "/v1/jobs", created_before=moment) == ["1st"]
    window = {"created_after": first["created_at"], "created_before": third["created_at"]}
    assert listed(client, "/v1/jobs", **window) == ["2nd", "1st"]


def test_a_time_without_a_zone_is_read_as_utc(client: TestClient):
    job = submit(client, "now")
    naive = job["created_at"].removesuffix("Z").split("+")[0]
    assert listed(client, "/v1/jobs", created_after=naive) == ["now"]


def test_jobs_sort_by_name_status_or_age_newest_first_by_default(client: TestClient):
    names = ["beta", "Alpha", "gamma"]
    ids = {name: submit(client, name)["id"] for name in names}
    as_worker(jobs.claim, ids["beta"])  # running
    client.post(f"/v1/jobs/{ids['gamma']}/cancel")  # cancelled
    assert listed(client, "/v1/jobs") == ["gamma", "Alpha", "beta"]
    assert listed(client, "/v1/jobs", sort="created_at") == ["beta", "Alpha", "gamma"]
    assert listed(client, "/v1/jobs", sort="name") == ["Alpha", "beta", "gamma"]
    assert listed(client, "/v1/jobs", sort="-name") == ["gamma", "beta", "Alpha"]
    assert listed(client, "/v1/jobs", sort="status") == ["Alpha", "beta", "gamma"]  # lifecycle
    assert listed(client, "/v1/jobs", sort="-status") == ["gamma", "beta", "Alpha"]


# --- Unknown query parameters ---------------------------------------------------------------


def test_an_unknown_query_parameter_is_a_422_naming_it_and_the_allowed_ones(client: TestClient):
    submit(client, "any")
    response = client.get("/v1/jobs", params={"state": "failed"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "query_invalid"
    assert "'state'" in problem["detail"]
    [error] = problem["errors"]
    assert (error["field"], error["found"]) == ("state", "failed")
    assert {"status", "name", "sort", "limit", "offset"} <= set(error["allowed"])
    assert "status" in problem["fix"]


def test_every_route_refuses_a_query_parameter_it_does_not_take(client: TestClient):
    job = submit(client, "any")["id"]
    batch = client.post("/v1/batches", json={"specs": [MNIST_SPEC]}).json()["id"]
    for method, path in [
        ("GET", "/healthz"),
        ("GET", "/v1/datasets"),
        ("GET", "/v1/datasets/mnist"),
        ("GET", f"/v1/jobs/{job}"),
        ("GET", f"/v1/jobs/{job}/events"),
        ("GET", "/v1/models"),
        ("POST", f"/v1/models/{job}/predict"),
        ("GET", "/v1/batches"),
        ("GET", f"/v1/batches/{batch}/jobs"),
        ("GET", "/v1/statuses"),
    ]:
        response = client.request(method, path, params={"verbose": "1"})
        assert response.status_code == 422, (method, path, response.text)
        assert response.json()["errors"][0]["field"] == "verbose", (method, path)


def test_declared_query_parameters_pass_including_an_alias(client: TestClient):
    job = submit(client, "any")["id"]
    # format is download_model's alias of its file_format argument: a model that is not
    # ready yet answers 409, not the 422 of an unknown parameter.
    assert client.get(f"/v1/models/{job}/download", params={"format": "onnx"}).status_code == 409
    predict = {"params": {"top_k": 1, "scale": "unit"}, "json": {"instances": [[0] * 784]}}
    assert client.post(f"/v1/models/{job}/predict", **predict).status_code == 409


# --- Models, data sets, batches -------------------------------------------------------------


def test_models_filter_by_data_set_and_task_with_a_total(client: TestClient):
    digits, letters, yes_no = (submit(client, name)["id"] for name in ("d", "l", "b"))
    register_model(digits)
    register_model(letters, dataset="asl")
    register_model(yes_no, task="binary")
    everything = client.get("/v1/models").json()
    assert (everything["total"], everything["next"]) == (3, None)
    assert listed(client, "/v1/models", dataset="asl") == [letters]
    assert listed(client, "/v1/models", dataset="mnist", task="binary") == [yes_no]
    page = client.get("/v1/models", params={"dataset": "mnist", "limit": 1}).json()
    assert (page["total"], page["next"]) == (2, "/v1/models?dataset=mnist&limit=1&offset=1")
    assert [model["job"]["name"] for model in page["items"]] == ["b"]


def test_data_sets_page_through_the_built_in_ones_then_the_uploads(client: TestClient):
    for name in ("line", "curve"):
        body = {"name": name, "task": "regression", "x": [[1], [2]], "y": [3, 5]}
        assert client.post("/v1/datasets", json=body).status_code == 201
    pages = every_page(client, "/v1/datasets?limit=3")
    assert [d["name"] for page in pages for d in page["items"]] == [*BUILT_IN, "line", "curve"]
    assert [(page["total"], len(page["items"])) for page in pages] == [(4, 3), (4, 1)]
    assert listed(client, "/v1/datasets", offset=3) == ["curve"]


def test_batches_are_listed_newest_first_with_their_counts(client: TestClient):
    old = client.post("/v1/batches", json={"name": "old", "specs": [MNIST_SPEC]}).json()
    new = client.post("/v1/batches", json={"name": "new", "specs": [MNIST_SPEC] * 2}).json()
    client.post(f"/v1/batches/{old['id']}/cancel")
    page = client.get("/v1/batches").json()
    assert (page["total"], page["next"]) == (2, None)
    assert [b["name"] for b in page["items"]] == ["new", "old"]
    newest, oldest = page["items"]
    assert (newest["id"], newest["status"], newest["size"]) == (new["id"], "queued", 2)
    assert newest["counts"]["queued"] == 2
    assert (oldest["status"], oldest["counts"]["cancelled"]) == ("cancelled", 1)
    assert oldest["cancelled_at"] is not None
    assert "jobs" not in oldest  # the list is a summary; GET /v1/batches/{id} has the rest
    second = client.get("/v1/batches", params={"limit": 1, "offset": 1}).json()
    assert [b["id"] for b in second["items"]] == [old["id"]]


def test_a_batchs_jobs_come_in_its_order_a_page_at_a_time_and_filter(client: TestClient):
    specs = [{**MNIST_SPEC, "name": f"item {i}"} for i in range(3)]
    batch = client.post("/v1/batches", json={"specs": specs, "max_parallel": 1}).json()
    submit(client, "item outside")
    path = f"/v1/batches/{batch['id']}/jobs"
    pages = every_page(client, f"{path}?limit=2")
    assert [j["name"] for page in pages for j in page["items"]] == ["item 0", "item 1", "item 2"]
    assert pages[0]["total"] == 3
    first = pages[0]["items"][0]["id"]
    client.post(f"/v1/jobs/{first}/cancel")
    assert listed(client, path, status="cancelled") == ["item 0"]
    assert listed(client, path, sort="-name") == ["item 2", "item 1", "item 0"]
    assert client.get("/v1/batches/nope/jobs").status_code == 404


def test_each_owner_lists_only_their_own_batches_and_an_admin_all(secured: TestClient):
    alice, bob, admin = make_key("alice"), make_key("bob"), make_key("ops", admin=True)
    secured.post("/v1/batches", json={"name": "hers", "specs": [MNIST_SPEC]}, headers=alice)
    secured.post("/v1/batches", json={"name": "his", "specs": [MNIST_SPEC]}, headers=bob)
    assert [b["name"] for b in secured.get("/v1/batches", headers=bob).json()["items"]] == ["his"]
    everyone = secured.get("/v1/batches", headers=admin).json()["items"]
    assert [b["name"] for b in everyone] == ["his", "hers"]
