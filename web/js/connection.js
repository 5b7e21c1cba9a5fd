// Whether the server answers. Every request the page makes goes through api.js's request(),
// which reports here: a network failure (or a proxy's 502/504 for a server that is down) shows
// a "connection lost — retrying" banner, and holds every later request until the next try,
// with a backoff that doubles from 1 s to 8 s; the first answer clears the banner. One tab
// with a server gone thus sends a request every few seconds, not dozens.

const FIRST_MS = 1000;
const LONGEST_MS = 8000;

const state = { down: false, failures: 0, nextTry: 0, since: 0, timer: null, wake: [] };

function banner() {
  let node = document.getElementById("connection-banner");
  if (!node) {
    node = document.createElement("div");
    node.id = "connection-banner";
    node.className = "banner";
    node.setAttribute("role", "alert");
    node.hidden = true;
    const text = document.createElement("span");
    text.id = "connection-text";
    const retry = document.createElement("button");
    retry.type = "button";
    retry.className = "small";
    retry.textContent = "Retry now";
    retry.addEventListener("click", () => retryNow());
    node.append(text, " ", retry);
    (document.querySelector("main") || document.body).prepend(node);
  }
  return node;
}

function show() {
  const node = banner();
  const seconds = Math.max(0, Math.ceil((state.nextTry - Date.now()) / 1000));
  document.getElementById("connection-text").textContent =
    `Connection to the server lost — retrying${seconds ? ` in ${seconds} s` : " now"}…`;
  node.hidden = false;
}

function wakeAll() {
  const waiting = state.wake;
  state.wake = [];
  for (const resolve of waiting) resolve();
}

function retryNow() {
  state.nextTry = Date.now();
  wakeAll();
  show();
}

/** A request got no answer from the service. */
export function lost() {
  const now = Date.now();
  if (!state.down) {
    state.down = true;
    state.since = now;
    state.failures = 0;
  }
  if (now >= state.nextTry) {
    // Only a try made after the last pause doubles the next one: a burst of requests that
    // were already in flight counts once.
    state.failures += 1;
    state.nextTry = now + Math.min(LONGEST_MS, FIRST_MS * 2 ** (state.failures - 1));
  }
  show();
  clearInterval(state.timer);
  state.timer = setInterval(show, 1000);
}

/** The service answered (any status): the connection is back. */
export function answered() {
  if (!state.down) return;
  state.down = false;
  state.failures = 0;
  state.nextTry = 0;
  clearInterval(state.timer);
  banner().hidden = true;
  wakeAll();
}

/** Resolves when a request may be sent: at once, or at the next try while the server is gone. */
export function ready() {
  const wait = state.nextTry - Date.now();
  if (!state.down || wait <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    state.wake.push(resolve);
    setTimeout(resolve, wait);
  });
}

export function isDown() {
  return state.down;
}
