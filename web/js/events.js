// Follow a Server-Sent Events stream with fetch() instead of EventSource, which cannot send the
// API key (and a key in the URL would end up in logs). It does what a browser's EventSource
// does: parses the stream as the HTML standard says, reconnects when the connection drops,
// resuming with Last-Event-ID (after a growing pause while it fails), waits out a 429's
// Retry-After, and stops on a 204.

import { ApiError, problemOf, request } from "./api.js";

const RETRY_MS = 1000;
const MAX_RETRY_MS = 15000;

/**
 * Call ``onEvent({type, data, id})`` for each event of the stream at ``path``. ``onEnd(error)``
 * is called once if the stream ends by itself: null after a 204 (nothing more to say), or the
 * ApiError that makes reconnecting pointless (a 404, say). Returns ``{close()}``.
 */
export function follow(path, onEvent, { onEnd } = {}) {
  const controller = new AbortController();
  const state = { lastId: null, retry: RETRY_MS };
  (async () => {
    let ended = null;
    let failures = 0;
    while (!controller.signal.aborted) {
      let pause = state.retry;
      try {
        const headers = { accept: "text/event-stream", "cache-control": "no-cache" };
        if (state.lastId !== null) headers["last-event-id"] = state.lastId;
        const response = await request(path, { headers, signal: controller.signal });
        if (response.status === 204) break;
        if (response.status === 429) {
          // Too many streams open for this key (other tabs): wait as long as the server says.
          const after = Number(response.headers.get("retry-after"));
          await response.body?.cancel();
          pause = Number.isFinite(after) && after > 0 ? after * 1000 : state.retry * 5;
          await sleep(pause, controller.signal);
          continue;
        }
        if (!response.ok) throw new ApiError(response.status, await problemOf(response));
        failures = 0;
        await read(response.body, state, onEvent, controller.signal);
      } catch (error) {
        if (controller.signal.aborted) return;
        // A 401 has asked for a new key, which the next request waits for; a dropped
        // connection or a server error is tried again, each time after a longer pause (the
        // requests also wait for connection.js's backoff). Any other answer would only
        // repeat itself.
        if (error instanceof ApiError && error.status !== 401 && error.status < 500) {
          ended = error;
          break;
        }
        failures += 1;
        pause = Math.min(MAX_RETRY_MS, state.retry * 2 ** Math.min(failures - 1, 5));
      }
      await sleep(pause, controller.signal);
    }
    if (!controller.signal.aborted) onEnd?.(ended);
  })();
  return { close: () => controller.abort() };
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });
}

async function read(body, state, onEvent, signal) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event = { data: [], type: "", id: state.lastId };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    // A chunk may end between the "\r" and "\n" of one line break: keep that "\r" for later.
    const end = buffer.endsWith("\r") ? buffer.length - 1 : buffer.length;
    const lines = buffer.slice(0, end).split(/\r\n|\r|\n/);
    buffer = lines.pop() + buffer.slice(end);
    for (const line of lines) {
      if (signal.aborted) return;
      if (line === "") {
        state.lastId = event.id;
        if (event.data.length) {
          onEvent({ type: event.type || "message", data: event.data.join("\n"), id: event.id });
        }
        event = { data: [], type: "", id: state.lastId };
        continue;
      }
      if (line.startsWith(":")) continue; // a comment: the server's keep-alive ping
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let text = colon < 0 ? "" : line.slice(colon + 1);
      if (text.startsWith(" ")) text = text.slice(1);
      if (field === "data") event.data.push(text);
      else if (field === "event") event.type = text;
      else if (field === "id" && !text.includes("\0")) event.id = text;
      else if (field === "retry" && /^\d+$/.test(text)) state.retry = Number(text);
    }
  }
}
