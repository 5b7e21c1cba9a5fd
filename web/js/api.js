// Talking to the Descent API, and a few helpers every page uses. Paths are relative so the
// page also works when the API is served under a prefix.

import { answered, lost, ready } from "./connection.js";
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
  await ready(); // while the server is gone, wait for the next try (connection.js)
  let response;
  try {
    response = await fetch(path, { ...options, headers });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    lost();
    throw new Error("the server did not answer (connection lost)");
  }
  // A proxy in front answers 502 or 504 for a service that is down: the same as no answer.
  if (response.status === 502 || response.status === 504) lost();
  else answered();
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

/** 0.5 -> "50.0%"; never rounds a share short of 1 up to "100.0%" (0.99996 -> ">99.9%"). */
export function percent(value) {
  if (value === null || value === undefined) return "—";
  if (value < 1 && value >= 0.9995) return ">99.9%";
  if (value > 0 && value < 0.0005) return "<0.1%";
  return `${(value * 100).toFixed(1)}%`;
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

/** A short name for a model: "dense 512-512 relu", "conv 32-64 · pool · dense 128 relu". */
export function compactModel(spec) {
  const model = spec.model;
  if (model.preset === "dense") return `dense 512-512 ${model.activation || "relu"}`;
  if (model.preset) return `${model.preset} ${model.activation || "relu"}`;
  const parts = [];
  const hidden = model.layers.slice(0, -1); // the output layer follows from the data set
  for (const layer of hidden) {
    const last = parts[parts.length - 1];
    const kind = layer.type === "conv2d" ? "conv" : layer.type;
    const size = layer.type === "dense" ? layer.units : layer.type === "conv2d" ? layer.filters : null;
    if (size !== null && last && last.kind === kind && last.activation === layer.activation) {
      last.sizes.push(size);
    } else if (size !== null) {
      parts.push({ kind, sizes: [size], activation: layer.activation });
    } else if (!["flatten", "reshape"].includes(layer.type)) {
      const short = { max_pool2d: "pool", avg_pool2d: "avg pool", batch_norm: "batch norm", dropout: `dropout ${layer.rate}` };
      parts.push({ kind: short[layer.type] || layer.type.replaceAll("_", " "), sizes: [] });
    }
  }
  if (!parts.length) return "linear (no hidden layer)";
  return parts
    .map((p) => (p.sizes.length ? `${p.kind} ${p.sizes.join("-")}${p.activation ? ` ${p.activation}` : ""}` : p.kind))
    .join(" · ");
}

/** The settings people compare runs by, as short strings, in the order they read them. */
export function settingsOf(job) {
  const spec = job.spec;
  return {
    data: spec.dataset.name,
    rows: spec.dataset.limit ? String(spec.dataset.limit) : "all",
    model: compactModel(spec),
    optimizer: spec.optimizer.name,
    "learning rate": describeRate(spec.optimizer.learning_rate),
    batch: String(spec.batch_size),
    epochs: String(spec.epochs),
  };
}

export function query(name) {
  return new URLSearchParams(location.search).get(name);
}
