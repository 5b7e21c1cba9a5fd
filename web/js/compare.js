// Overlay the curves of several jobs: one colour per job, validation solid, training dotted.
// Jobs still running are re-read every few seconds, and the charts take the new points in
// place: the page does not jump, and lines hidden in a legend or a zoom stay as they were.
// The table lists each job's settings; a setting that differs between the jobs is highlighted,
// and jobs on different data sets are called out (their losses do not compare).

import { api, el, finishedStatuses, jobLabel, number, percent, query, settingsOf } from "./api.js";
import { axisEnd, Chart, PALETTE } from "./charts.js";

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 3000;
let charts = null; // {key, loss, accuracy}: rebuilt only when the jobs or the line kinds change
let timer = null;
const FINISHED = await finishedStatuses();

function chosen() {
  return (query("ids") || "").split(",").filter(Boolean);
}

async function loadChoices(selected) {
  const page = await api("v1/jobs?limit=100");
  const jobs = page.items;
  if (!jobs.length) {
    $("choices").replaceChildren(el("p", { class: "muted" }, "No jobs yet."));
    return;
  }
  $("choices").replaceChildren(
    ...jobs.map((job) => {
      const s = settingsOf(job);
      return el(
        "div",
        {},
        el("input", {
          type: "checkbox",
          id: `pick-${job.id}`,
          name: "ids",
          value: job.id,
          checked: selected.includes(job.id),
        }),
        " ",
        el(
          "label",
          { for: `pick-${job.id}` },
          `${jobLabel(job)} — ${job.status}, ${s.data}, ${s.optimizer} ${s["learning rate"]}`,
        ),
      );
    }),
  );
}

async function compare(ids) {
  clearTimeout(timer);
  if (!ids.length) {
    charts?.loss.destroy();
    charts?.accuracy.destroy();
    charts = null;
    $("compare-note").textContent = "Tick one or more jobs, then Compare.";
    $("summary").replaceChildren();
    return;
  }
  let runs;
  try {
    runs = await Promise.all(
      ids.map(async (id) => ({ job: await api(`v1/jobs/${id}`), history: await api(`v1/jobs/${id}/history`) })),
    );
  } catch (error) {
    $("compare-note").textContent = `Could not read the jobs: ${error.message}`;
    timer = setTimeout(() => compare(ids), REFRESH_MS);
    return;
  }
  const training = $("show-training").checked;
  const series = runs.flatMap((run, i) => {
    const colour = PALETTE[i % PALETTE.length];
    const name = jobLabel(run.job);
    const own = [{ label: `${name} validation`, stroke: colour }];
    if (training) own.push({ label: `${name} training`, stroke: colour, dash: [2, 4], width: 1 });
    return own;
  });
  const longest = Math.max(0, ...runs.map((r) => r.history.epochs.length));
  const maxEpoch = Math.max(
    1,
    ...runs.map((r) => {
      const last = r.history.epochs.length - 1;
      return FINISHED.has(r.job.status) ? last : axisEnd(last, r.job.spec.epochs);
    }),
  );
  const xs = [...Array(longest).keys()];
  const ys = (valKey, trainKey) =>
    runs.flatMap((run) => {
      const byEpoch = new Map(run.history.epochs.map((row) => [row.epoch, row]));
      const line = (key) => xs.map((x) => byEpoch.get(x)?.[key] ?? null);
      return training ? [line(valKey), line(trainKey)] : [line(valKey)];
    });
  const key = JSON.stringify(series.map((s) => s.label));
  if (!charts || charts.key !== key) {
    charts?.loss.destroy();
    charts?.accuracy.destroy();
    charts = {
      key,
      loss: new Chart($("loss-chart"), { title: "Loss", series }),
      accuracy: new Chart($("accuracy-chart"), { title: "Accuracy", percent: true, series }),
    };
  }
  charts.loss.set(xs, ys("val_loss", "loss"), { xMax: maxEpoch });
  charts.accuracy.set(xs, ys("val_accuracy", "accuracy"), { xMax: maxEpoch });
  showSummary(runs);
  const running = runs.some((run) => !FINISHED.has(run.job.status));
  const datasets = new Set(runs.map((run) => run.job.spec.dataset.name));
  $("compare-note").textContent =
    `${runs.length} job${runs.length > 1 ? "s" : ""}${running ? "; updating while some still run" : ""}.` +
    (datasets.size > 1 ? ` Careful: they train on different data sets (${[...datasets].join(", ")}).` : "");
  if (running) timer = setTimeout(() => compare(ids), REFRESH_MS);
}

const SETTINGS = ["data", "rows", "model", "optimizer", "learning rate", "batch", "epochs"];

function showSummary(runs) {
  const settings = runs.map((run) => settingsOf(run.job));
  const differs = new Set(SETTINGS.filter((name) => new Set(settings.map((s) => s[name])).size > 1));
  $("summary-head").replaceChildren(
    el(
      "tr",
      {},
      el("th", { scope: "col" }, "Job"),
      ...SETTINGS.map((name) => el("th", { scope: "col" }, name[0].toUpperCase() + name.slice(1))),
      el("th", { scope: "col", class: "num" }, "Best epoch"),
      el("th", { scope: "col", class: "num" }, "Best val. loss"),
      el("th", { scope: "col", class: "num" }, "Last val. accuracy"),
      el("th", { scope: "col" }, "Overfitting"),
    ),
  );
  $("summary").replaceChildren(
    ...runs.map(({ job, history }, i) => {
      const colour = PALETTE[i % PALETTE.length];
      const best = history.epochs.find((row) => row.epoch === history.best_epoch);
      const last = history.epochs[history.epochs.length - 1];
      return el(
        "tr",
        {},
        el(
          "td",
          {},
          el("span", { style: `color:${colour}`, "aria-hidden": "true" }, "■ "),
          el("a", { href: `job.html?id=${job.id}` }, jobLabel(job)),
        ),
        ...SETTINGS.map((name) =>
          el(
            "td",
            { class: differs.has(name) ? "differs" : null, title: differs.has(name) ? "differs between these jobs" : null },
            settings[i][name],
          ),
        ),
        el("td", { class: "num" }, history.best_epoch ?? "—"),
        el("td", { class: "num" }, number(best?.val_loss)),
        el("td", { class: "num" }, percent(last?.val_accuracy)),
        el("td", {}, history.overfitting_since === null ? "no" : `since epoch ${history.overfitting_since}`),
      );
    }),
  );
  $("differs-note").textContent = differs.size
    ? `Highlighted: settings that differ (${[...differs].join(", ")}).`
    : "These jobs share every setting listed.";
}

$("pick").addEventListener("submit", (event) => {
  event.preventDefault();
  const ids = [...document.querySelectorAll('input[name="ids"]:checked')].map((input) => input.value);
  history.replaceState(null, "", `?ids=${ids.join(",")}`);
  compare(ids);
});

const initial = chosen();
await loadChoices(initial);
await compare(initial);
