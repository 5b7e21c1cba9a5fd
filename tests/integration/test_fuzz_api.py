"""schemathesis against the running service's own OpenAPI schema: no request gets a 5xx.

Every operation gets ``EXAMPLES`` requests that fit its schema and ``EXAMPLES`` that break it
(wrong types, missing fields, out-of-range numbers, odd headers). The service runs without a
worker, so the jobs that valid submissions create stay queued instead of training.
"""

import contextlib
import os
from pathlib import Path

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase

from tests.conftest import Backend
from tests.harness import start_service, stop_service

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("DESCENT_FUZZ_EXAMPLES", "50"))


def test_generated_requests_never_get_a_server_error(tmp_path: Path, backend: Backend):
    home = tmp_path / "home"
    service = start_service(home, worker=False, **backend(home))
    server_errors: list[str] = []
    sent = 0
    try:
        schema = schemathesis.openapi.from_dict(service.client.get("/openapi.json").json())
        for result in schema.get_all_operations():
            operation = result.ok()
            for mode in schemathesis.GenerationMode:

                @hypothesis.settings(
                    max_examples=EXAMPLES,
                    deadline=None,
                    database=None,
                    phases=[Phase.generate],
                    suppress_health_check=list(HealthCheck),
                )
                @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
                def call(case: schemathesis.Case) -> None:
                    nonlocal sent
                    response = case.call(base_url=service.url, timeout=20)
                    sent += 1
                    if response.status_code >= 500:
                        server_errors.append(
                            f"{case.method} {case.formatted_path} -> {response.status_code}: "
                            f"{response.text[:300]}\n{case.as_curl_command()}"
                        )

                # An operation without parameters or body has nothing to break (Unsatisfiable).
                with contextlib.suppress(hypothesis.errors.Unsatisfiable):
                    call()
    finally:
        stop_service(service)
    print(f"schemathesis: {sent} requests, {len(server_errors)} server errors")
    assert sent > 0
    assert server_errors == [], "\n\n".join(server_errors[:10])
