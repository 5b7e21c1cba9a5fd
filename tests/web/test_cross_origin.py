"""A web front end on another origin uses the API from Chromium: DESCENT_CORS_ORIGINS names it.

The front end is a static page served by Python's http.server on a second loopback port (an
origin of its own). With keys required, its script submits a job, follows the job's event
stream to the end, reads the job (and gets a 304 for it unchanged) and predicts, all with
``fetch`` and the key in ``Authorization``. The same page on a third port, an origin the
service does not name, is refused by the browser.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from services import api_keys
from tests.conftest import Backend, Service, as_worker, free_port, start_service, stop_service
from tests.factories import job_spec
from tests.web.conftest import Browser

pytestmark = [pytest.mark.integration, pytest.mark.web]

SPEC = job_spec(name="cross-origin", limit=300, validation=0.2, units=8, epochs=1, seed=1)
STROKE = [
    [255 if 12 <= col <= 15 and 4 <= row <= 23 else 0 for col in range(28)] for row in range(28)
]

# The front end's own script: what an integrator writes. EventSource cannot send a key, so the
# stream is read with fetch, as web/js/events.js does (docs/api.md, "Cross-origin front ends").
FRONT_END_JS = """
async function call(api, key, path, { headers = {}, ...options } = {}) {
  const all = new Headers(headers);
  all.set("authorization", `Bearer ${key}`);
  return fetch(api + path, { ...options, headers: all });
}

async function follow(api, key, path, lastId) {
  const headers = { accept: "text/event-stream", "cache-control": "no-cache" };
  if (lastId) headers["last-event-id"] = lastId;
  const response = await call(api, key, path, { headers });
  const events = [];
  if (response.status !== 200) return { status: response.status, events };
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    const blocks = buffer.split(/\\r\\n\\r\\n|\\n\\n/); // sse-starlette ends lines with \\r\\n
    buffer = blocks.pop();
    for (const block of blocks) {
      const event = { type: "message", data: "", id: null };
      for (const line of block.split(/\\r?\\n/)) {
        if (line.startsWith("event:")) event.type = line.slice(6).trim();
        else if (line.startsWith("data:")) event.data += line.slice(5).trim();
        else if (line.startsWith("id:")) event.id = line.slice(3).trim();
      }
      if (event.data) events.push({ ...event, data: JSON.parse(event.data) });
    }
  }
  return { status: 200, events };
}

window.story = async ({ api, key, spec, image }) => {
  const out = {};
  const submitted = await call(api, key, "/v1/jobs", {
    method: "POST",
    headers: { "content-type": "application/json", "idempotency-key": crypto.randomUUID() },
    body: JSON.stringify(spec),
  });
  out.submitted = submitted.status;
  out.location = submitted.headers.get("location");
  const job = await submitted.json();

  const stream = await follow(api, key, `/v1/jobs/${job.id}/events`);
  out.followed = stream.status;
  out.events = stream.events.map((event) => [event.type, event.data.status ?? null]);
  if (!stream.events.length) return out;
  const lastId = stream.events.at(-1).id;
  out.resumed = (await follow(api, key, `/v1/jobs/${job.id}/events`, lastId)).status;

  const read = await call(api, key, `/v1/jobs/${job.id}`);
  out.job = await read.json();
  out.etag = read.headers.get("etag");
  const unchanged = await call(api, key, `/v1/jobs/${job.id}`, {
    headers: { "if-none-match": out.etag },
  });
  out.unchanged = unchanged.status;

  const predicted = await call(api, key, `/v1/models/${job.id}/predict`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ instances: [image] }),
  });
  out.predicted = predicted.status;
  out.prediction = await predicted.json();
  return out;
};

// A refused origin: fetch rejects (a TypeError), the answer never reaches the script.
window.attempt = async (url, headers) => {
  try {
    const response = await fetch(url, { headers });
    return `answered ${response.status}`;
  } catch (error) {
    return `refused: ${error.name}`;
  }
};
"""
FRONT_END_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Another front end</title>
<script src="front-end.js"></script></head><body><h1>Another front end</h1></body></html>
"""


class FrontEnd:
    """The static front end served by http.server on a loopback port: one origin."""

    def __init__(self, folder: Path) -> None:
        handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
        handler.log_message = lambda *args: None  # type: ignore[method-assign]
        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def front_ends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FrontEnd, FrontEnd]]:
    """The same page on two origins: the first is named in DESCENT_CORS_ORIGINS, the other not."""
    folder = tmp_path_factory.mktemp("front-end")
    (folder / "index.html").write_text(FRONT_END_HTML)
    (folder / "front-end.js").write_text(FRONT_END_JS)
    allowed, stranger = FrontEnd(folder), FrontEnd(folder)
    yield allowed, stranger
    allowed.close()
    stranger.close()


@pytest.fixture(scope="module")
def cross_origin(
    tmp_path_factory: pytest.TempPathFactory, backend: Backend, front_ends
) -> Iterator[Service]:
    """The service with keys required and the first front end's origin allowed."""
    home = tmp_path_factory.mktemp("descent-cors")
    allowed, _ = front_ends
    running = start_service(
        home, DESCENT_AUTH="required", DESCENT_CORS_ORIGINS=allowed.origin, **backend(home)
    )
    yield running
    stop_service(running)


@pytest.fixture(scope="module")
def key(cross_origin: Service) -> str:
    _, secret = as_worker(cross_origin, api_keys.create, "front-end")
    return secret


@pytest.fixture
def page_on(browser, cross_origin: Service) -> Iterator:
    opened: list[Browser] = []

    def open_at(front_end: FrontEnd):
        web = Browser(browser, cross_origin)
        opened.append(web)
        web.page.goto(f"{front_end.origin}/index.html")
        return web

    yield open_at
    for web in opened:
        web.close()


def test_an_allowed_origin_trains_follows_reads_and_predicts(
    page_on, front_ends, cross_origin: Service, key: str
):
    allowed, _ = front_ends
    web = page_on(allowed)
    story = web.page.evaluate(
        "args => window.story(args)",
        {"api": cross_origin.url, "key": key, "spec": SPEC, "image": STROKE},
    )
    web.shot("cross-origin-front-end")

    assert story["submitted"] == 202
    assert story["followed"] == 200
    assert story["location"].startswith("/v1/jobs/")  # an exposed header
    kinds = [kind for kind, _ in story["events"]]
    assert story["events"][0] == ["status", "queued"]
    assert "epoch" in kinds
    assert story["events"][-1] == ["status", "succeeded"]
    assert story["resumed"] == 204  # Last-Event-ID went through: nothing more to send
    assert story["job"]["status"] == "succeeded"
    assert story["etag"]  # exposed, so the page can poll with If-None-Match
    assert story["unchanged"] == 304
    assert story["predicted"] == 200
    assert len(story["prediction"]["predictions"]) == 1
    assert web.errors == []


def test_another_origin_is_refused_where_the_named_one_is_answered(
    page_on, front_ends, cross_origin: Service, key: str
):
    allowed, stranger = front_ends
    named, other = page_on(allowed), page_on(stranger)
    with_key = {"authorization": f"Bearer {key}"}
    for url, headers in (
        (f"{cross_origin.url}/v1/jobs", with_key),  # preflighted: refused before it is sent
        (f"{cross_origin.url}/healthz", {}),  # simple: sent, but its answer is kept from it
    ):
        attempt = "([url, headers]) => window.attempt(url, headers)"
        assert named.page.evaluate(attempt, [url, headers]) == "answered 200", url
        assert other.page.evaluate(attempt, [url, headers]) == "refused: TypeError", url
