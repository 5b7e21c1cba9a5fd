"""Health, data sets, docs and the page: what a client looks at first."""

from fastapi.testclient import TestClient


def test_health_reports_the_database_and_that_no_key_is_needed(client: TestClient):
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok", "auth": "off"}


def test_datasets_list_their_shapes_and_class_names(client: TestClient):
    by_name = {d["name"]: d for d in client.get("/v1/datasets").json()["items"]}
    assert by_name["mnist"]["class_names"] == [str(d) for d in range(10)]
    assert by_name["asl"]["num_classes"] == 24
    assert by_name["asl"]["input_shape"] == [28, 28, 1]
    assert (by_name["asl"]["train_size"], by_name["asl"]["test_size"]) == (27_455, 7_172)


def test_every_route_is_documented(client: TestClient):
    schema = client.get("/openapi.json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method.upper()} {path} has no summary"
            assert operation.get("description"), f"{method.upper()} {path} has no docstring"
    assert client.get("/docs").status_code == 200


def test_the_front_page_is_served(client: TestClient):
    response = client.get("/")
    assert response.status_code == 200
    assert "Descent" in response.text
