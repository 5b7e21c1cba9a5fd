"""The pages a problem's ``type`` points to, and the one table of codes they are made from."""

import re
from pathlib import Path

from fastapi.testclient import TestClient

from api.problem_types import PROBLEM_TYPES
from core.errors import DescentError
from training.diagnoses import CODES as DIAGNOSES

ROOT = Path(__file__).resolve().parents[2]
# A code given where an error is made: a kind's default (``code = "..."``) or one raise's own
# (``code="..."``). A code built at run time would escape this check, so none is.
CODE = re.compile(r"""\bcode\s*=\s*(f?)["']([^"']*)["']""")


def codes_in_source() -> dict[str, str]:
    """Every code the source gives an error, each with a file that gives it."""
    found: dict[str, str] = {}
    for package in ("core", "services", "serving", "training", "api", "workers"):
        for source in (ROOT / package).rglob("*.py"):
            for is_format, code in CODE.findall(source.read_text()):
                if is_format:
                    continue  # checked by kind below
                if code in DIAGNOSES and source.name in ("advice.py", "regularization.py"):
                    continue  # a spec warning's diagnosis code (training/diagnoses.py), no error
                found.setdefault(code, str(source.relative_to(ROOT)))
    return found


def test_every_code_an_error_can_carry_is_explained():
    found = codes_in_source()
    assert {"job_not_found", "spec_invalid", "payload_too_large"} <= set(found), (
        "the pattern no longer finds the codes the source gives"
    )
    missing = {code: where for code, where in found.items() if code not in PROBLEM_TYPES}
    assert not missing, f"add these codes to api/problem_types.py: {missing}"
    # check_owner (api/auth.py) names the code after the kind it looks for.
    assert {f"{kind}_not_found" for kind in ("job", "model", "batch")} <= set(PROBLEM_TYPES)


def test_every_error_kind_has_an_explained_default_code():
    kinds = [DescentError]
    while kinds:
        kind = kinds.pop()
        assert kind.code in PROBLEM_TYPES, kind
        kinds.extend(kind.__subclasses__())


def test_codes_are_snake_case_and_say_how_to_fix():
    for code, kind in PROBLEM_TYPES.items():
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", code), code
        assert kind.meaning and kind.fix and kind.title, code


def test_a_problem_type_is_a_page_that_explains_it(client: TestClient):
    response = client.get("/problems/job_not_found")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Job not found" in response.text
    assert "GET /v1/jobs" in response.text  # how to fix it


def test_a_problem_type_answers_json_when_asked(client: TestClient):
    response = client.get("/problems/spec_invalid", headers={"Accept": "application/json"})
    assert response.json() == {
        "type": "/problems/spec_invalid",
        "code": "spec_invalid",
        **PROBLEM_TYPES["spec_invalid"]._asdict(),
    }


def test_the_type_a_problem_body_names_is_served(client: TestClient):
    body = client.get("/v1/jobs/nope").json()
    page = client.get(body["type"], headers={"Accept": "application/json"})
    assert page.status_code == 200
    assert page.json()["status"] == body["status"] == 404


def test_the_list_of_codes_names_every_one(client: TestClient):
    listed = client.get("/problems", headers={"Accept": "application/json"}).json()
    assert [entry["code"] for entry in listed] == list(PROBLEM_TYPES)
    page = client.get("/problems").text
    assert all(f'href="/problems/{code}"' in page for code in PROBLEM_TYPES)


def test_an_unknown_code_is_a_404_problem(client: TestClient):
    response = client.get("/problems/no_such_code")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


def test_the_pages_need_no_key(secured: TestClient):
    assert secured.get("/problems/unauthorized").status_code == 200


def test_the_api_docs_list_every_code():
    errors = (ROOT / "docs" / "api.md").read_text().split("## Errors", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([a-z_]+)` \| (\d+|any) \|", errors, flags=re.M))
    assert {code for code, _ in listed} == set(PROBLEM_TYPES)
    for code, status in listed:
        assert status == str(PROBLEM_TYPES[code].status or "any"), code
