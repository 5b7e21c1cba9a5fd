"""Scripts branch on ``descent``'s exit status: each outcome has its own number."""

import pytest

from descent.client import ApiError
from descent.exit_codes import ExitCode


def test_the_codes_are_the_documented_numbers():
    assert {code.name: code.value for code in ExitCode} == {
        "ok": 0, "job_failed": 1, "usage": 2, "bad_request": 3, "job_cancelled": 4,
        "unreachable": 5, "server_error": 6,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (None, ExitCode.unreachable),
        (401, ExitCode.bad_request),
        (404, ExitCode.bad_request),
        (409, ExitCode.bad_request),
        (422, ExitCode.bad_request),
        (500, ExitCode.server_error),
        (503, ExitCode.server_error),
    ],
)
def test_a_failed_request_maps_to_its_code(status: int | None, code: ExitCode):
    assert ExitCode.for_error(ApiError(status, "title", "detail")) is code


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("succeeded", ExitCode.ok),
        ("failed", ExitCode.job_failed),
        ("cancelled", ExitCode.job_cancelled),
    ],
)
def test_a_watched_job_ends_the_command_by_how_it_ended(status: str, code: ExitCode):
    assert ExitCode.for_status(status) is code
