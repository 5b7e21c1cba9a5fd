// One job: its curves drawn live from the event stream, the best epoch and any overfitting
// marked, batch progress, and a cancel button; the verdict and diagnoses (with what to try),
// the layer-health chart, and after training where the model is wrong.

import {
  ApiError,
  api,
  describeModel,
  describeRate,
  describeValidation,
  download,
  el,
  finishedStatuses,
  jobLabel,
  number,
  percent,
  query,
  statusBadge,
  when,
} from "./api.js";
import { axisEnd, Chart, TRAIN, VALIDATION } from "./charts.js";
import { diagnosisNode, sentence, tone, verdictNode } from "./diagnosis.js";
import { EvaluationView } from "./evaluation.js";
import { follow } from "./events.js";
import { HealthView } from "./health.js";
import { curveSummary, drawCurve } from "./lrfind.js";

const $ = (id) => document.getElementById(id);
const jobId = query("id");
const rows = new Map(); // epoch -> history row, so a replayed event never doubles a point
let job = null;
let status = null;
let stream = null;
let FINISHED = new Set(); // the final statuses as the server names them, read before the job
// Each status change is one transition: a read of the job lists them all, and the stream sends
// one status event for each, in order, from the first. Counting them tells news from history.
let known = 0; // the status changes the page has been told of, by a read or by the stream
let streamed = 0; // the status events the stream has sent

let verdict = null; // the history's verdict: success styling only when verdict.success
let diagnoses = [];
let historyAsked = 0; // history reads sent; an answer to an older one is dropped
let historyTimer = null;
const HISTORY_PAUSE_MS = 1500; // epochs arriving together cost one history read

const STALL_S = 30; // a running job silent this long gets a "no progress" note
let lastNews = Date.now();
const batches = { xs: [], ys: [] }; // the loss of each batch, at fractional epochs

const lossChart = new Chart($("loss-chart"), {
  title: "Loss",
  batches: true,
  series: [
    { label: "training loss", stroke: TRAIN },
    { label: "validation loss", stroke: VALIDATION, dash: [8, 4] },
  ],
});
const accuracyChart = new Chart($("accuracy-chart"), {
  title: "Accuracy",
  percent: true,
  series: [
    { label: "training accuracy", stroke: TRAIN },
    { label: "validation accuracy", stroke: VALIDATION, dash: [8, 4] },
  ],
});
const health = new HealthView({
  part: $("health-part"),
  chart: $("health-chart"),
  summary: $("health-summary"),
  table: $("health-rows"),
  caption: $("health-caption"),
});
const evaluation = new EvaluationView({
  part: $("evaluation-part"),
  note: $("evaluation-note"),
  about: $("evaluation-about"),
  confusion: $("confusion"),
  perClass: $("per-class"),
  residuals: $("residuals"),
  galleryPart: $("gallery-part"),
  gallery: $("gallery"),
  galleryNote: $("gallery-note"),
});

// An answer can arrive after newer news: a read sent at "running" answered after the stream's
// "succeeded" (or its "queued", when the job's worker was lost), or the cancel's "cancelling"
// after "cancelled". What it says is older than what the page shows, and would leave it stuck
// there: the stream has ended, or has no reason to tell the status again.
function outdated(answer) {
  return answer.transitions.length < known;
}

// Only the recovery sweep puts a job that has started back in the queue: its worker was lost.
function requeued(answer) {
  return answer.status === "queued" && answer.attempts > 0;
}

function setStatus(next, { lostWorker = false } = {}) {
  status = next;
  $("status").replaceChildren(statusBadge(next));
  markBadge();
  const live = next === "queued" || next === "running";
  $("cancel").disabled = !live;
  $("cancel").hidden = !live && next !== "cancelling";
  if (next !== "running") resetProgress(); // queued again, or finished: no stale "step 35 of 63"
  lastNews = Date.now();
  const notes = {
    cancelling: "Stopping after the current batch; finished epochs are kept.",
    cancelled: "Cancelled.",
  };
  $("cancel-note").textContent = notes[next] || "";
  $("resume-note").textContent = lostWorker
    ? "Its worker was lost: the job waits in the queue, and the next worker resumes it from its last checkpoint, training the epochs after it again."
    : "";
}

function showJob(data) {
  if (outdated(data)) return; // its times and model link are as old as its status
  job = data;
  known = job.transitions.length;
  document.title = `Descent — ${jobLabel(job)}`;
  $("title").textContent = `${job.kind === "lr_find" ? "Learning-rate finder" : "Job"} ${jobLabel(job)}`;
  setStatus(job.status, { lostWorker: requeued(job) });
  const spec = job.spec;
  const facts = [
    [
      "Data",
      `${spec.dataset.name}${spec.dataset.limit ? `, first ${spec.dataset.limit} rows` : ""}, ${describeValidation(spec.dataset.validation)}`,
    ],
    ["Model", describeModel(spec)],
    ["Loss", spec.loss],
    ["Optimizer", `${spec.optimizer.name}, learning rate ${describeRate(spec.optimizer.learning_rate)}`],
    ["Epochs × batch", `${spec.epochs} × ${spec.batch_size}`],
    ["Submitted", when(job.created_at)],
    ["Started", when(job.started_at)],
    ["Finished", when(job.finished_at)],
  ];
  $("facts").replaceChildren(...facts.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]));
  $("spec").textContent = JSON.stringify(spec, null, 2);
  $("error").textContent = job.error ? `Failed: ${job.error}` : "";
  $("compare").href = `compare.html?ids=${job.id}`;
  $("again").href = `./?from=${job.id}`;
  $("again").hidden = false;
  if (job.status === "cancelled") {
    $("cancel-note").textContent = job.model_id
      ? "Cancelled. The epochs it finished are kept, and so are its last weights: the model still answers predictions."
      : "Cancelled before it trained.";
  }
  if (job.kind === "lr_find") showLrFind();
  if (job.model_id) {
    $("predict").hidden = false;
    $("predict").href = `predict.html?model=${job.model_id}`;
    $("downloads").hidden = false;
  }
  draw();
}

function draw() {
  const epochs = [...rows.keys()].sort((a, b) => a - b);
  const pick = (key) => epochs.map((e) => rows.get(e)[key]);
  const last = epochs.length ? rows.get(epochs[epochs.length - 1]) : null;
  const marks = {
    xMax: !job
      ? 1
      : FINISHED.has(status) && last
        ? Math.max(1, last.epoch)
        : axisEnd(last ? last.epoch : 0, job.spec.epochs),
    best: last ? last.best_epoch : null,
    overfittingSince: last ? last.overfitting_since : null,
    success: Boolean(verdict?.success),
  };
  lossChart.set(epochs, [pick("loss"), pick("val_loss")], marks);
  accuracyChart.set(epochs, [pick("accuracy"), pick("val_accuracy")], marks);
  health.update(epochs.map((e) => rows.get(e)), { xMax: marks.xMax });
  if (last) {
    $("loss-summary").textContent =
      `Loss by epoch, ${epochs.length} points; at epoch ${last.epoch} training ${number(last.loss)}, validation ${number(last.val_loss)}.`;
    $("accuracy-summary").textContent =
      `Accuracy by epoch; at epoch ${last.epoch} training ${percent(last.accuracy)}, validation ${percent(last.val_accuracy)}.`;
  }
  showVerdict(marks);
  $("epochs").replaceChildren(
    ...epochs.map((e) => {
      const r = rows.get(e);
      return el(
        "tr",
        { class: e === marks.best ? (marks.success ? "best success" : "best") : null },
        el("td", {}, String(e), e === marks.best ? " (best)" : ""),
        ...[
          number(r.loss),
          number(r.val_loss),
          percent(r.accuracy),
          percent(r.val_accuracy),
          number(r.learning_rate),
          number(r.seconds, 2),
        ].map((v) => el("td", { class: "num" }, v)),
      );
    }),
  );
}

function showVerdict({ best, overfittingSince }) {
  const row = best !== null && best !== undefined ? rows.get(best) : null;
  const sofar = FINISHED.has(status) ? "" : " so far";
  const mood = tone(verdict);
  // Green is earned: only a verdict of success colours the best epoch as one.
  $("best").className = `notice ${verdict?.success ? "good" : "neutral"}`;
  $("best").textContent = !row
    ? ""
    : mood === "warning"
      ? `Lowest validation loss${sofar} at epoch ${best} (${number(row.val_loss)}, validation accuracy ${percent(row.val_accuracy)}): not a success, see the verdict.`
      : `Best epoch${sofar}: ${best}, with the lowest validation loss (${number(row.val_loss)}, validation accuracy ${percent(row.val_accuracy)}).`;
  // The live mark, as each epoch row has it; the Overfitting diagnosis below adds its remedies.
  $("overfitting").textContent =
    overfittingSince !== null && overfittingSince !== undefined
      ? `Overfitting since epoch ${overfittingSince}: validation loss has been rising while training loss keeps falling. The model is memorising its training rows; epoch ${best}'s weights generalised best.`
      : "";
}

/** A learning-rate finder's job: its curve and suggestion instead of learning curves. */
let lrPlot = null;
async function showLrFind() {
  $("lr-part").hidden = false;
  $("curves-part").hidden = true;
  $("epochs-part").hidden = true;
  if (!FINISHED.has(status)) {
    $("lr-result").textContent = "Running: the curve appears when the test ends.";
    return;
  }
  try {
    const find = await api(`v1/lr-find/${encodeURIComponent(jobId)}`);
    const curve = find.curve.filter((p) => p.learning_rate > 0);
    $("lr-result").textContent = find.suggested_learning_rate
      ? `Suggested learning rate: ${number(find.suggested_learning_rate)}. ${sentence(find.reason || "")}`
      : sentence(find.reason || find.error || `The test ${find.status}.`);
    if (!curve.length) return;
    lrPlot?.destroy();
    const width = Math.max(200, Math.floor($("lr-chart").clientWidth || 300));
    lrPlot = drawCurve($("lr-plot"), curve, find.suggested_learning_rate, width);
    $("lr-chart").dataset.points = String(curve.length);
    $("lr-summary").textContent = curveSummary(curve);
  } catch (error) {
    $("lr-result").textContent = `Could not read the test's curve: ${error.message}`;
  }
}

/** A run that "succeeded" as a process but diverged or did not learn gets no green badge. */
function markBadge() {
  const badge = $("status").querySelector(".status");
  badge?.classList.toggle("not-success", Boolean(verdict && !verdict.success && status === "succeeded"));
}

function showDiagnosis() {
  markBadge();
  const node = $("verdict");
  node.className = `notice ${tone(verdict)}`;
  node.dataset.outcome = verdict?.outcome ?? "";
  node.dataset.success = verdict ? String(Boolean(verdict.success)) : "";
  node.replaceChildren(...(verdict ? verdictNode(verdict) : []));
  $("diagnoses").replaceChildren(...diagnoses.map(diagnosisNode));
}

/** Read the verdict and diagnoses (GET …/history); the newest read wins. */
async function loadHistory() {
  clearTimeout(historyTimer);
  historyTimer = null;
  const asked = ++historyAsked;
  try {
    const history = await api(`v1/jobs/${encodeURIComponent(jobId)}/history`);
    if (asked !== historyAsked) return;
    verdict = history.verdict ?? null;
    diagnoses = history.diagnoses ?? [];
    showDiagnosis();
    draw();
  } catch {
    // The verdict waits for the next epoch or status change; the curves do not need it.
  }
}

function historySoon() {
  historyTimer ??= setTimeout(loadHistory, HISTORY_PAUSE_MS);
}

function resetProgress() {
  $("progress-part").hidden = true;
  $("progress").value = 0;
  $("progress-label").textContent = "Epoch progress";
}

function showProgress({ epoch, step, steps, loss }) {
  if (FINISHED.has(status) || status === "queued") return;
  if (Number.isFinite(loss) && steps) {
    batches.xs.push(epoch - 1 + step / steps);
    batches.ys.push(loss);
    lossChart.setBatches(batches.xs, batches.ys);
  }
  $("progress-part").hidden = false;
  $("progress").max = steps || step;
  $("progress").value = step;
  $("progress-label").textContent =
    `Epoch ${epoch} of ${job ? job.spec.epochs : "?"}: step ${step}${steps ? ` of ${steps}` : ""}, running loss ${number(loss)}`;
}

function listen() {
  // The stream sends the key; it reconnects by itself, resuming with Last-Event-ID, and when
  // it ends on its own (the job had ended, or it is gone) the page reads the final state once.
  stream = follow(`v1/jobs/${encodeURIComponent(jobId)}/events`, onEvent, { onEnd: refresh });
}

function onEvent({ type, data }) {
  const value = JSON.parse(data);
  lastNews = Date.now();
  if (type === "epoch") {
    // An attempt records its epochs in order: one recorded again means a new attempt trains on
    // from an earlier checkpoint, and what the lost attempt recorded from there on is gone.
    for (const epoch of rows.keys()) if (epoch >= value.epoch) rows.delete(epoch);
    rows.set(value.epoch, value);
    // Batch points of epochs now recorded whole are kept; a new epoch's start from zero.
    resetProgress();
    draw();
    historySoon(); // the diagnoses may have changed with this epoch
  } else if (type === "progress") {
    showProgress(value);
  } else if (type === "status") {
    streamed += 1;
    if (streamed > known) {
      // News, even where it goes back to "queued": the first "queued" is known from the read,
      // so this one is a requeue after a lost worker.
      known = streamed;
      setStatus(value.status, { lostWorker: value.status === "queued" });
      refresh(); // times, attempts, final metrics, the model link
    } // else replayed history, or a read told it first
    if (FINISHED.has(value.status)) stream.close(); // the stream ends with the job
  }
}

async function refresh() {
  try {
    showJob(await api(`v1/jobs/${encodeURIComponent(jobId)}`));
    if (job?.kind !== "lr_find") loadHistory(); // a range test has no epochs to judge
    // Made as a job succeeds; a failed or cancelled one may have none (one look, no retries).
    if (FINISHED.has(status) && job?.kind !== "lr_find") {
      evaluation.load(jobId, { tries: status === "succeeded" ? 3 : 1 });
    }
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) notFound();
    else $("error").textContent = error.message;
  }
}

/** An unknown id (or another owner's job): say so, instead of "loading…" for ever. */
function notFound() {
  document.title = "Descent — no such job";
  $("title").textContent = "No such job";
  $("status").textContent = "not found";
  for (const panel of document.querySelectorAll("main > section")) panel.hidden = true;
  const note = el(
    "section",
    { class: "panel not-found", id: "not-found" },
    el("p", {}, `There is no job with the id “${jobId}” (or it belongs to another key).`),
    el("p", {}, el("a", { href: "./" }, "See the job list"), " to pick one, or train a new model there."),
  );
  $("title").after(note);
}

// "No progress for N s": a running job that has sent no event for a while (a worker busy
// elsewhere, a lost worker before the sweep requeues it, or a connection gone quiet).
setInterval(() => {
  const quiet = Math.round((Date.now() - lastNews) / 1000);
  $("stall").textContent =
    status === "running" && quiet >= STALL_S
      ? `No progress for ${quiet} s: the worker may be busy or lost; the page keeps listening.`
      : "";
}, 1000);

$("cancel").addEventListener("click", async () => {
  $("cancel").disabled = true;
  try {
    const answer = await api(`v1/jobs/${encodeURIComponent(jobId)}/cancel`, { method: "POST" });
    if (!outdated(answer)) {
      known = answer.transitions.length;
      setStatus(answer.status);
    }
  } catch (error) {
    $("cancel-note").textContent = error.message;
    $("cancel").disabled = !(status === "queued" || status === "running");
  }
});

for (const format of ["keras", "onnx"]) {
  $(`download-${format}`).addEventListener("click", async () => {
    try {
      const path = `v1/models/${encodeURIComponent(job.model_id)}/download?format=${format}`;
      await download(path, `${job.model_id}.${format}`);
    } catch (error) {
      $("error").textContent = `Could not download the model: ${error.message}`;
    }
  });
}

if (!jobId) {
  $("title").textContent = "No job named";
  $("error").textContent = "Open a job from the list on the Train page.";
} else {
  FINISHED = await finishedStatuses();
  await refresh();
  if (job) listen();
}
