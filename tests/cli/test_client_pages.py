"""The client reads every list as a page, follows ``next`` when asked for all, and gives back
the server's own objects for ``--output json``. Against a stand-in transport: the shapes are
the point here; the real server's are exercised in tests/integration/test_cli_scripting.py."""

from collections.abc import Callable

import httpx

from descent.client import Client, api_object

NOW = "2026-01-01T00:00:00Z"


def job(number: int) -> dict:
    return {"id": f"{number:032x}", "status": "queued", "created_at": NOW, "newer_field": number}


def client_answering(answer: Callable[[httpx.Request], httpx.Response]) -> Client:
    client = Client("http://descent.test")
    client._http = httpx.Client(base_url=client.url, transport=httpx.MockTransport(answer))
    return client


def test_a_bare_array_of_data_sets_is_read_as_one_whole_page():
    sets = [{"name": "mnist"}, {"name": "asl"}]
    with client_answering(lambda request: httpx.Response(200, json=sets)) as client:
        page = client.list_datasets()
    assert [d.name for d in page.items] == ["mnist", "asl"]
    assert (page.total, page.next) == (2, None)
    assert api_object(page) == {"items": sets, "total": 2, "limit": 2, "offset": 0, "next": None}


def test_every_page_is_followed_through_next_with_the_filters_kept():
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        if request.url.params["offset"] == "0":
            next_page = "/v1/jobs?status=failed&status=cancelled&limit=2&offset=2"
            return httpx.Response(
                200, json={"items": [job(1), job(2)], "total": 3, "limit": 2, "offset": 0,
                           "next": next_page},
            )  # fmt: skip
        return httpx.Response(
            200, json={"items": [job(3)], "total": 3, "limit": 2, "offset": 2, "next": None}
        )

    with client_answering(answer) as client:
        page = client.list_jobs(limit=2, status=["failed", "cancelled"], name=None, every=True)
    assert asked[0] == "http://descent.test/v1/jobs?limit=2&offset=0&status=failed&status=cancelled"
    assert len(asked) == 2
    assert [j.id for j in page.items] == [job(n)["id"] for n in (1, 2, 3)]
    assert (page.total, page.next) == (3, None)


def test_the_api_object_keeps_the_fields_the_client_does_not_know():
    with client_answering(lambda request: httpx.Response(200, json=job(7))) as client:
        found = client.get_job(job(7)["id"])
    assert not hasattr(found, "newer_field")
    assert api_object(found) == job(7)
