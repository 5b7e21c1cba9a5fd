// Talking to the Descent API, and a few helpers every page uses. Paths are relative so the
// page also works when the API is served under a prefix.

import { keyRejected, waitForKey } from "./key.js";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || `the server answered ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

/**
 * fetch() with the API key, for every call the pages make (JSON, event streams, downloads).
 * When the server needs a key it waits for one; a 401 forgets the key, asks for another with
 * the server's message, and throws an ApiError for the caller to show.
 */
export async function request(path, options = {}) {
  const key = await waitForKey();
  const headers = new Headers(options.headers);
  if (key) headers.set("authorization", `Bearer ${key}`);
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) {
    const problem = await problemOf(response);
    keyRejected(key, problem);
    throw new ApiError(401, problem);
  }
  return response;
}

export async function problemOf(response) {
  const text = await response.text();
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return { detail: text };
  }
}

/** A JSON call; ``body`` is sent as JSON, or as it is when it is FormData (files). */
export async function api(path, { method = "GET", body } = {}) {
  const options = { method, headers: { accept: "application/json" } };
  if (body instanceof FormData) {
    options.body = body; // fetch writes the multipart content-type, boundary included
  } else if (body !== undefined) {
    options.headers["content-type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await request(path, options);
  const data = await problemOf(response);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

const RETRY_MS = 2000;

/**
 * GET what the page cannot work without (the layer kinds, the statuses), until it comes: a 401
 * asked for a key and the next try waits for it; any other failure (the server restarting, a
 * network blip) is passed to ``onError`` and tried again after a pause, so a page never stays
 * broken for want of a reload.
 */
export async function apiUntilAnswered(path, onError = () => {}) {
  for (;;) {
    try {
      return await api(path);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) continue;
      onError(error);
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }
}

let finished = null;

/**
 * The statuses a job moves no more from, as a Set, read once per page from the server's one
 * list (GET v1/statuses).
 */
export function finishedStatuses() {
  finished ??= apiUntilAnswered("v1/statuses").then((statuses) => new Set(statuses.finished));
  return finished;
}

/** Save a file the API serves, as a link would, but sending the key (a link cannot). */
export async function download(path, fallbackName) {
  const response = await request(path);
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  const disposition = response.headers.get("content-disposition") || "";
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] || fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const link = el("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** el("p", {class: "x"}, "text", child) -> an element. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

export function number(value, digits = 4) {
  if (value === null || value === undefined) return "—";
  if (Math.abs(value) >= 1000 || (value !== 0 && Math.abs(value) < 0.001)) {
    return value.toExponential(2);
  }
  return Number(value.toFixed(digits)).toString();
}

export function percent(value) {
  return value === null || value === undefined ? "—" : `${(value * 100).toFixed(1)}%`;
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "—";
}

export function statusBadge(status) {
  return el("span", { class: `status status-${status}` }, status);
}

export function jobLabel(job) {
  return job.name ? `${job.name} (${job.id.slice(0, 8)})` : job.id.slice(0, 8);
}

// Resolved specs write sizes as [height, width] and may give a schedule as the learning rate.
const size = (value) => (Array.isArray(value) ? value.join("×") : value);

export function describeRate(rate) {
  if (typeof rate === "number") return `${rate}`;
  return `${rate.schedule} from ${rate.initial_learning_rate ?? rate.values[0]}`;
}

export function describeValidation(validation) {
  if (validation === "test") return "validated on the test split";
  if (validation === "none" || validation == null) return "no validation";
  return `validated on ${validation.fraction * 100}% held out`;
}

export function describeModel(spec) {
  const model = spec.model;
  if (model.preset) return `preset ${model.preset}, ${model.activation || "relu"}`;
  return model.layers
    .map((layer) => {
      if (layer.type === "dense") return `dense ${layer.units} ${layer.activation}`;
      if (layer.type === "conv2d") return `conv ${layer.filters}×${size(layer.kernel_size)} ${layer.activation}`;
      if (layer.type === "max_pool2d") return `pool ${size(layer.pool_size)}`;
      if (layer.type === "dropout") return `dropout ${layer.rate}`;
      return layer.type;
    })
    .join(" → ");
}

export function query(name) {
  return new URLSearchParams(location.search).get(name);
}
