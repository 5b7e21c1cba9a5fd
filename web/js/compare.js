// Overlay the curves of several jobs: one colour per job, validation solid, training dotted.
// Jobs still running are re-read every few seconds.

import { api, describeRate, el, finishedStatuses, jobLabel, number, percent, query } from "./api.js";
import { axisEnd, Chart, PALETTE } from "./charts.js";

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 3000;
let charts = [];
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
    ...jobs.map((job) =>
      el(
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
          `${jobLabel(job)} — ${job.status}, ${job.spec.optimizer.name} ${describeRate(job.spec.optimizer.learning_rate)}`,
        ),
      ),
    ),
  );
}

async function compare(ids) {
  clearTimeout(timer);
  for (const chart of charts) chart.destroy();
  charts = [];
  if (!ids.length) {
    $("compare-note").textContent = "Tick one or more jobs, then Compare.";
    return;
  }
  const runs = await Promise.all(
    ids.map(async (id) => ({ job: await api(`v1/jobs/${id}`), history: await api(`v1/jobs/${id}/history`) })),
  );
  const training = $("show-training").checked;
  const series = runs.flatMap((run, i) => {
    const colour = PALETTE[i % PALETTE.length];
    const name = jobLabel(run.job);
    const own = [{ label: `${name} validation`, stroke: colour }];
    if (training) own.push({ label: `${name} training`, stroke: colour, dash: [2, 4] });
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
  const loss = new Chart($("loss-chart"), { title: "Loss", series });
  const accuracy = new Chart($("accuracy-chart"), { title: "Accuracy", percent: true, series });
  loss.set(xs, ys("val_loss", "loss"), { xMax: maxEpoch });
  accuracy.set(xs, ys("val_accuracy", "accuracy"), { xMax: maxEpoch });
  charts = [loss, accuracy];
  $("summary").replaceChildren(...runs.map((run, i) => summaryRow(run, PALETTE[i % PALETTE.length])));
  const running = runs.some((run) => !FINISHED.has(run.job.status));
  $("compare-note").textContent =
    `${runs.length} job${runs.length > 1 ? "s" : ""}${running ? "; updating while some still run" : ""}.`;
  if (running) timer = setTimeout(() => compare(ids), REFRESH_MS);
}

function summaryRow({ job, history }, colour) {
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
    el("td", {}, `${job.spec.optimizer.name} ${describeRate(job.spec.optimizer.learning_rate)}`),
    el("td", { class: "num" }, history.best_epoch ?? "—"),
    el("td", { class: "num" }, number(best?.val_loss)),
    el("td", { class: "num" }, percent(last?.val_accuracy)),
    el("td", {}, history.overfitting_since === null ? "no" : `since epoch ${history.overfitting_since}`),
  );
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
