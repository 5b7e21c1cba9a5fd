// The API key, for a server that needs one (DESCENT_AUTH=required, which /healthz reports).
// It is kept in this tab's sessionStorage, never in a URL: it goes away when the tab closes.
// Until there is a key, requests wait while a small form asks for one; a 401 forgets the key
// and asks again with the server's message; "Forget key" in the header forgets it on request.

const STORE = "descent.api-key";
const CHECK = "v1/jobs?limit=1"; // the cheapest call that needs a key

let mode = null; // a promise of "off" | "required"
let gate = null; // while no key is known: { promise, resolve } that the next key settles

function authMode() {
  mode ??= fetch("healthz", { headers: { accept: "application/json" } })
    .then((response) => response.json())
    .then((health) => (health.auth === "required" ? "required" : "off"))
    .catch(() => {
      mode = null; // ask again next time; a 401 in the meantime says "required" anyway
      return "off";
    });
  return mode;
}

function stored() {
  try {
    return sessionStorage.getItem(STORE);
  } catch {
    return null; // storage disabled: the form asks on every page
  }
}

/** The key to send, or null when the server needs none; waits for the form if it needs one. */
export async function waitForKey() {
  if ((await authMode()) === "off") return null;
  const key = stored();
  if (key) {
    forgetButton().hidden = false;
    return key;
  }
  if (!gate) ask(""); // else the form is up already, perhaps with a 401's message
  return gate.promise;
}

/** A request made with ``sent`` got a 401: forget that key and ask for another. */
export function keyRejected(sent, problem) {
  mode = Promise.resolve("required");
  if (sent && stored() && stored() !== sent) return; // a newer key was saved meanwhile
  forget();
  ask(problem?.detail || "The server asks for an API key.");
}

function forget() {
  try {
    sessionStorage.removeItem(STORE);
  } catch {
    // nothing was stored
  }
  forgetButton().hidden = true;
}

function ask(message) {
  if (!gate) {
    let resolve;
    const promise = new Promise((done) => (resolve = done));
    gate = { promise, resolve };
  }
  const panel = keyPanel();
  panel.hidden = false;
  panel.querySelector("#api-key-error").textContent = message;
  panel.querySelector("#api-key").focus();
}

async function save(event) {
  event.preventDefault();
  const panel = keyPanel();
  const input = panel.querySelector("#api-key");
  const error = panel.querySelector("#api-key-error");
  const key = input.value.trim();
  if (!key) {
    error.textContent = "Paste the key's secret first (it starts with dsk_).";
    input.focus();
    return;
  }
  error.textContent = "Checking the key…";
  let response;
  try {
    // Plain fetch, not api.js's request(): that one would wait for this very key.
    response = await fetch(CHECK, { headers: { accept: "application/json", authorization: `Bearer ${key}` } });
  } catch (failure) {
    error.textContent = `Could not reach the server: ${failure.message}`;
    return;
  }
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    error.textContent = problem.detail || `The server answered ${response.status}.`;
    input.select();
    return;
  }
  try {
    sessionStorage.setItem(STORE, key);
  } catch {
    // storage disabled: the key lasts as long as this page
  }
  input.value = "";
  error.textContent = "";
  panel.hidden = true;
  forgetButton().hidden = false;
  const waiting = gate;
  gate = null;
  waiting?.resolve(key);
}

function keyPanel() {
  let panel = document.getElementById("api-key-panel");
  if (panel) return panel;
  const code = (text) => Object.assign(document.createElement("code"), { textContent: text });
  panel = document.createElement("section");
  panel.id = "api-key-panel";
  panel.className = "panel key-panel";
  panel.setAttribute("aria-labelledby", "api-key-title");
  panel.innerHTML = `
    <h2 id="api-key-title">This server needs an API key</h2>
    <p class="explain"></p>
    <form id="api-key-form" novalidate>
      <div class="field">
        <label for="api-key">API key</label>
        <input id="api-key" type="password" autocomplete="off" spellcheck="false" aria-describedby="api-key-error api-key-kept">
      </div>
      <p id="api-key-error" class="error" role="alert"></p>
      <button type="submit" class="primary">Save key</button>
      <p id="api-key-kept" class="hint">Kept in this browser tab only (sessionStorage) until the tab
        closes or you choose "Forget key"; sent as <code>Authorization: Bearer …</code> with every request.</p>
    </form>`;
  panel.querySelector(".explain").append(
    "Whoever runs the server creates one with ",
    code("descent keys create --name YOUR-NAME"),
    " on the server and gives you the secret it prints (it starts with ",
    code("dsk_"),
    "). You see and act on the jobs and models of the key's owner.",
  );
  panel.querySelector("form").addEventListener("submit", save);
  const main = document.querySelector("main") || document.body;
  const heading = main.querySelector("h1");
  if (heading) heading.after(panel);
  else main.prepend(panel);
  return panel;
}

function forgetButton() {
  let button = document.getElementById("forget-key");
  if (button) return button;
  button = document.createElement("button");
  button.type = "button";
  button.id = "forget-key";
  button.className = "small";
  button.textContent = "Forget key";
  button.hidden = true;
  button.addEventListener("click", () => {
    forget();
    ask("Key forgotten: this tab no longer sends it.");
  });
  (document.querySelector("header.site nav") || document.body).append(button);
  return button;
}
