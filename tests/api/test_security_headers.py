"""Every answer carries the security headers; a page's CSP lets its own scripts run and nothing
else (tests/web checks in Chromium that the pages work under it, with no CSP violation)."""

import base64
import hashlib
import re

import pytest
from fastapi.testclient import TestClient

ALWAYS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def policy(response) -> dict[str, list[str]]:
    directives = {}
    for part in response.headers["content-security-policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.parametrize("path", ["/", "/job.html", "/predict.html", "/compare.html", "/redoc"])
def test_pages_run_only_this_origins_scripts_and_cannot_be_framed(client: TestClient, path: str):
    response = client.get(path)
    assert response.status_code == 200
    assert {k: response.headers[k] for k in ALWAYS} == ALWAYS
    csp = policy(response)
    assert csp["script-src"] == ["'self'"]  # no inline script, no eval, no other origin
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["connect-src"] == ["'self'"] and csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]


def test_the_docs_inline_script_is_allowed_by_its_hash_alone(client: TestClient):
    response = client.get("/docs")
    scripts = re.findall(r"<script>(.*?)</script>", response.text, re.S)
    assert scripts  # FastAPI's page starts Swagger UI inline
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in scripts
    ]
    assert policy(response)["script-src"] == ["'self'", *sorted(set(hashes))]


def test_api_answers_render_nothing_and_refusals_carry_the_headers_too(client: TestClient):
    for response in (
        client.get("/healthz"),
        client.get("/v1/jobs/nope"),  # a problem
        client.post("/v1/jobs", content=b"x" * (2 * 2**20)),  # a 413 from the body cap
        client.get("/no-such-file"),
    ):
        assert {k: response.headers[k] for k in ALWAYS} == ALWAYS, response.status_code
        assert response.headers["content-security-policy"] == (
            "default-src 'none'; frame-ancestors 'none'"
        )
