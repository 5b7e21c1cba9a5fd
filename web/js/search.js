// A sweep (a batch: ?batch=ID) or a search (?id=ID) as it runs: its leaderboard, the metric
// plotted against each setting it varies (one dot per trial), and which trials were stopped
// early and at which epoch. Without an id: the recent sweeps and searches.
// Re-read every few seconds while anything runs; the plots take new dots in place.

import { api, ApiError, el, finishedStatuses, number, query, statusBadge, when } from "./api.js";

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 3000;
const DONE = "#2563eb";
const STOPPED = "#ea580c";
const FINISHED = await finishedStatuses();
const plots = new Map(); // setting -> {plot, key}
let current = null; // [path, shape] of what the page shows
let polling = false;

/** Both kinds as one shape: {name, status, metric, direction, trials: [...], running}. */
function fromSearch(search) {
  const better = search.direction === "maximize" ? -1 : 1;
  const trials = search.trials.map((t) => ({
    label: `trial ${t.number}`,
    number: t.number,
    jobId: t.job_id,
    params: t.params,
    status: t.status || "queued",
    value: t.value,
    bestEpoch: t.best_epoch,
    epochsDone: Math.max(0, t.epochs_done),
    stopped: t.stopped_early,
    stoppedAt: t.stopped_at_epoch,
    reason: t.stop_reason,
  }));
  const budget = search.budget;
  return {
    kind: "search",
    id: search.id,
    name: search.name || `search ${search.id.slice(0, 8)}`,
    status: search.status,
    metric: search.metric,
    direction: search.direction,
    better,
    trials,
    running: !["succeeded", "failed", "cancelled"].includes(search.status),
    summary:
      `${search.sampler.type} sampler (seed ${search.sampler.seed}), early stopping: ${search.early_stopping.type}; ` +
      `${budget.trials_started} of ${budget.max_trials} trials started, ${budget.epochs_spent} epochs spent` +
      (budget.max_epochs_total ? ` of ${budget.max_epochs_total}` : ""),
    error: search.error,
  };
}

function fromBatch(batch) {
  const better = batch.goal === "max" ? -1 : 1;
  const standing = new Map(batch.leaderboard.map((s) => [s.job_id, s]));
  const trials = batch.jobs.map((job) => {
    const s = standing.get(job.id);
    return {
      label: job.name || `job ${job.index + 1}`,
      jobId: job.id,
      params: job.varied,
      status: job.status,
      value: s ? s.value : null,
      bestEpoch: s ? s.epoch : null,
      epochsDone: Math.max(0, job.epochs_done),
      stopped: job.status === "cancelled",
      stoppedAt: job.status === "cancelled" ? Math.max(0, job.epochs_done) : null,
      reason: job.status === "cancelled" ? "cancelled" : job.error,
    };
  });
  const counts = Object.entries(batch.counts)
    .filter(([, n]) => n)
    .map(([status, n]) => `${n} ${status}`)
    .join(", ");
  return {
    kind: "sweep",
    name: batch.name || `sweep ${batch.id.slice(0, 8)}`,
    status: batch.status,
    metric: batch.metric,
    direction: batch.goal === "max" ? "maximize" : "minimize",
    better,
    trials,
    running: ["queued", "running"].includes(batch.status),
    summary: `${batch.size} jobs (${counts}), at most ${batch.max_parallel} at once`,
    error: null,
  };
}

/** Train a stopped trial on from its checkpoint, for a reader who disagrees with the rule. */
async function resume(view, trial, button) {
  button.disabled = true;
  try {
    await api(`v1/searches/${encodeURIComponent(view.id)}/trials/${trial.number}/resume`, { method: "POST" });
    button.textContent = "Resuming…";
    if (!polling) showOne(...current); // a finished search's page reads again while it trains
  } catch (error) {
    button.disabled = false;
    $("error").textContent = `Could not resume ${trial.label}: ${error.message}`;
  }
}

function ranked(view) {
  const withValue = view.trials.filter((t) => t.value !== null && t.value !== undefined);
  withValue.sort((a, b) => view.better * (a.value - b.value));
  const rest = view.trials.filter((t) => t.value === null || t.value === undefined);
  return [...withValue, ...rest];
}

function padded(min, max) {
  if (min === null || max === null) return [0, 1];
  const pad = (max - min) * 0.08 || Math.abs(max) * 0.1 || 1;
  return [min - pad, max + pad];
}

function shownParam(value) {
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : number(value);
  return String(value);
}

function showBoard(view) {
  const params = [...new Set(view.trials.flatMap((t) => Object.keys(t.params)))];
  $("board-head").replaceChildren(
    el(
      "tr",
      {},
      el("th", { scope: "col", class: "num" }, "Rank"),
      el("th", { scope: "col" }, "Trial"),
      el("th", { scope: "col" }, "Status"),
      ...params.map((p) => el("th", { scope: "col" }, p)),
      el("th", { scope: "col", class: "num" }, `Best ${view.metric}`),
      el("th", { scope: "col", class: "num" }, "at epoch"),
      el("th", { scope: "col", class: "num" }, "Epochs done"),
      el("th", { scope: "col" }, "Stopped"),
    ),
  );
  let rank = 0;
  $("board").replaceChildren(
    ...ranked(view).map((t) =>
      el(
        "tr",
        { class: t.stopped ? "stopped" : null, "data-job": t.jobId },
        el("td", { class: "num" }, t.value === null || t.value === undefined ? "—" : String(++rank)),
        el("td", {}, el("a", { href: `job.html?id=${t.jobId}` }, t.label)),
        el("td", {}, statusBadge(t.status)),
        ...params.map((p) => el("td", {}, p in t.params ? shownParam(t.params[p]) : "—")),
        el("td", { class: "num" }, number(t.value)),
        el("td", { class: "num" }, t.bestEpoch ?? "—"),
        el("td", { class: "num" }, String(t.epochsDone)),
        el(
          "td",
          {},
          t.stopped ? (t.reason || `at epoch ${t.stoppedAt}`) : "no",
          t.stopped && view.kind === "search" && ["cancelled"].includes(t.status)
            ? [" ", el("button", { type: "button", class: "small", onclick: (e) => resume(view, t, e.target) }, `Resume ${t.label}`)]
            : null,
        ),
      ),
    ),
  );
  const stopped = view.trials.filter((t) => t.stopped).length;
  $("board-note").textContent =
    `Best first by ${view.metric} (${view.direction === "maximize" ? "higher" : "lower"} is better).` +
    (stopped ? ` ${stopped} stopped early.` : "");
  $("board-part").hidden = false;
  $("compare-all").href = `compare.html?ids=${view.trials.map((t) => t.jobId).join(",")}`;
  $("tools").hidden = !view.trials.length;
}

/** One scatter per varied setting: x the setting (log when it spans decades), y the metric. */
function showPlots(view) {
  const params = [...new Set(view.trials.flatMap((t) => Object.keys(t.params)))];
  const scored = view.trials.filter((t) => t.value !== null && t.value !== undefined);
  $("plots-part").hidden = !params.length;
  for (const param of params) {
    const points = scored.filter((t) => param in t.params);
    const numeric = points.every((t) => typeof t.params[param] === "number");
    const categories = numeric ? [] : [...new Set(view.trials.map((t) => String(t.params[param])))].sort();
    const xOf = (t) => (numeric ? t.params[param] : categories.indexOf(String(t.params[param])));
    const positive = points.map(xOf).filter((x) => x > 0);
    const log = numeric && positive.length === points.length && positive.length > 1 && Math.max(...positive) / Math.min(...positive) >= 10;
    const sorted = [...points].sort((a, b) => xOf(a) - xOf(b));
    const xs = sorted.map(xOf);
    const done = sorted.map((t) => (t.stopped ? null : t.value));
    const stopped = sorted.map((t) => (t.stopped ? t.value : null));
    const key = JSON.stringify([log, categories]);
    let entry = plots.get(param);
    if (!entry || entry.key !== key) {
      entry?.plot.destroy();
      entry?.figure.remove();
      const figure = el("figure", { class: "chart scatter", "data-param": param, "data-points": "0" });
      $("plots").append(figure);
      const dots = (colour) => ({
        stroke: colour,
        width: 0,
        paths: () => null,
        points: { show: true, size: 9, stroke: colour, fill: colour },
        value: (u, v) => (v === null || v === undefined ? "—" : number(v)),
      });
      const plot = new uPlot(
        {
          title: `${view.metric} against ${param}`,
          width: Math.max(240, figure.clientWidth || 360),
          height: 240,
          padding: [8, 12, 0, 0],
          scales: {
            // Room around the dots, so none sits on the plot's edge.
            x: log
              ? { time: false, distr: 3, range: (u, min, max) => [min / 1.6, max * 1.6] }
              : numeric
                ? { time: false, range: (u, min, max) => padded(min, max) }
                : { time: false, range: () => [-0.5, Math.max(0.5, categories.length - 0.5)] },
            y: { range: (u, min, max) => padded(min, max) },
          },
          axes: [
            {
              label: param,
              ...(numeric ? {} : { incrs: [1], values: (u, ticks) => ticks.map((t) => categories[t] ?? "") }),
            },
            { size: 56, label: view.metric },
          ],
          series: [
            { label: param, value: (u, v) => (v === null || v === undefined ? "—" : numeric ? number(v) : categories[v] ?? "—") },
            { label: "finished or running", ...dots(DONE) },
            { label: "stopped early", ...dots(STOPPED) },
          ],
          legend: { live: true },
          cursor: { drag: { x: true, y: false } },
        },
        [[], [], []],
        figure,
      );
      new ResizeObserver(() => plot.setSize({ width: Math.max(240, figure.clientWidth || 360), height: 240 })).observe(figure);
      entry = { plot, key, figure };
      plots.set(param, entry);
    }
    entry.plot.setData([xs, done, stopped]);
    entry.figure.dataset.points = String(xs.length);
  }
}

async function showOne(path, shape) {
  current = [path, shape];
  polling = false;
  let data;
  try {
    data = await api(path);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      $("title").textContent = "No such sweep or search";
      $("state").textContent = "Nothing by that id here (or it belongs to another key). Pick one from the list below.";
      await showList();
      return;
    }
    $("error").textContent = `Could not read it: ${error.message}; trying again…`;
    polling = true;
    setTimeout(() => showOne(path, shape), REFRESH_MS);
    return;
  }
  $("error").textContent = "";
  const view = shape(data);
  document.title = `Descent — ${view.name}`;
  $("title").textContent = `${view.kind === "search" ? "Search" : "Sweep"} ${view.name}`;
  $("state").replaceChildren(statusBadge(view.status), ` ${view.summary}.`);
  const top = ranked(view)[0];
  $("best").textContent =
    top && top.value !== null && top.value !== undefined
      ? `Best${view.running ? " so far" : ""}: ${top.label}, ${view.metric} ${number(top.value)} at epoch ${top.bestEpoch} (${Object.entries(top.params).map(([k, v]) => `${k} ${shownParam(v)}`).join(", ")}).`
      : "";
  if (view.error) $("error").textContent = view.error;
  showBoard(view);
  showPlots(view);
  if (view.running || view.trials.some((t) => !FINISHED.has(t.status))) {
    polling = true;
    setTimeout(() => showOne(path, shape), REFRESH_MS);
  }
}

async function showList() {
  $("list-part").hidden = false;
  const rows = [];
  try {
    const batches = await api("v1/batches?limit=20");
    for (const b of batches.items) {
      rows.push({ href: `search.html?batch=${b.id}`, name: b.name || b.id.slice(0, 8), kind: "sweep", status: b.status, size: b.size, at: b.created_at });
    }
  } catch (error) {
    $("error").textContent = `Could not load the sweeps: ${error.message}`;
  }
  try {
    const searches = await api("v1/searches?limit=20");
    for (const s of searches.items) {
      rows.push({ href: `search.html?id=${s.id}`, name: s.name || s.id.slice(0, 8), kind: "search", status: s.status, size: s.budget.max_trials, at: s.created_at });
    }
  } catch {
    // a server without searches still lists its sweeps
  }
  rows.sort((a, b) => (a.at < b.at ? 1 : -1));
  $("list").replaceChildren(
    ...(rows.length
      ? rows.map((r) =>
          el(
            "tr",
            {},
            el("td", {}, el("a", { href: r.href }, r.name)),
            el("td", {}, r.kind),
            el("td", {}, statusBadge(r.status)),
            el("td", { class: "num" }, String(r.size)),
            el("td", { class: "muted" }, when(r.at)),
          ),
        )
      : [el("tr", {}, el("td", { colspan: 5, class: "muted" }, "No sweeps or searches yet."))]),
  );
  if (!query("id") && !query("batch")) $("state").textContent = "";
}

if (query("id")) await showOne(`v1/searches/${encodeURIComponent(query("id"))}`, fromSearch);
else if (query("batch")) await showOne(`v1/batches/${encodeURIComponent(query("batch"))}`, fromBatch);
else await showList();
