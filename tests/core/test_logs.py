"""Log lines: the fields of the work they belong to, as JSON or for a person, never a secret."""

import contextvars
import json
import logging
import sys
import threading

import pytest

from core import logs

KEY = "dsk_live_4f9a8b7c6d5e4f3a2b1c"


@pytest.fixture(autouse=True)
def no_fields_yet(monkeypatch: pytest.MonkeyPatch):
    """Each test starts with no fields bound: a test run earlier in this process (a worker's
    claim binds ``attempt`` and ``owner``) may have left some in the top-level context."""
    monkeypatch.setattr(logs, "_process_fields", {})
    token = logs._scope.set(None)
    yield
    logs._scope.reset(token)


def record(message: str, *args: object, exc: bool = False) -> logging.LogRecord:
    made = logging.LogRecord("descent.test", logging.INFO, __file__, 1, message, args, None)
    if exc:
        try:
            raise RuntimeError(f"refused Authorization: Bearer {KEY}")
        except RuntimeError:
            made.exc_info = sys.exc_info()
    logs.ContextFilter().filter(made)
    return made


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"Authorization: Bearer {KEY}", KEY),
        (f"headers {{'authorization': 'bearer {KEY}'}}", KEY),
        (
            "GET https://s3.example/b/k?X-Amz-Credential=AKIA1/x&X-Amz-Signature=abc123def",
            "abc123def",
        ),
        ("GET https://s3.example/b/k?X-Amz-Credential=AKIA1/x&X-Amz-Signature=abc123def", "AKIA1"),
        ("connecting to postgresql+psycopg://descent:hunter2@db:5432/descent", "hunter2"),
        ("broker redis://:hunter2@redis:6379/0", "hunter2"),
    ],
)
def test_secrets_are_redacted(text: str, secret: str):
    assert secret not in logs.redact(text)
    assert "[redacted]" in logs.redact(text)


def test_plain_urls_and_words_are_left_alone():
    text = "GET http://127.0.0.1:8000/v1/jobs?status=running took 3 ms"
    assert logs.redact(text) == text


def test_a_json_line_carries_the_bound_fields_and_no_secret_in_its_traceback():
    with logs.bound(request_id="r-1", job_id="j-1"), logs.bound(attempt=2):
        line = json.loads(logs.JsonFormatter().format(record("job %s claimed", "j-1", exc=True)))
    assert line["message"] == "job j-1 claimed"
    assert (line["request_id"], line["job_id"], line["attempt"]) == ("r-1", "j-1", 2)
    assert "owner" not in line  # unknown: left out, not null
    assert "RuntimeError" in line["exception"] and KEY not in json.dumps(line)
    assert line["level"] == "info" and line["logger"] == "descent.test"


def test_a_console_line_ends_with_the_known_fields():
    with logs.bound(request_id="r-1", owner="alice"):
        line = logs.ConsoleFormatter().format(record("hello"))
    assert line.endswith("INFO descent.test hello [request_id=r-1 owner=alice]")


def test_what_a_thread_binds_is_seen_by_the_scope_it_shares():
    def request() -> dict[str, object]:
        logs.start_scope(request_id="r-2")  # as the request-id middleware does
        # FastAPI runs a sync dependency (authenticate) in a thread with a copy of the context.
        helper = threading.Thread(
            target=contextvars.copy_context().run, args=(logs.bind,), kwargs={"owner": "bob"}
        )
        helper.start()
        helper.join()
        return logs.fields()

    assert contextvars.copy_context().run(request) == {"request_id": "r-2", "owner": "bob"}


def test_fields_are_gone_once_their_scope_ends():
    with logs.bound(job_id="j-3"):
        assert logs.fields()["job_id"] == "j-3"
    assert "job_id" not in logs.fields()
