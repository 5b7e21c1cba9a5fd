// The verdict on a job and its diagnoses, as the history tells them (GET v1/jobs/{id}/history):
// what happened, in plain words, the numbers that show it, and what to try. The verdict's
// `success` is the only thing that earns the page's green: a run that diverged or did not learn
// is never dressed as a success, whatever its "best" epoch.

import { el } from "./api.js";

const OUTCOMES = {
  healthy: "Healthy",
  overfitting: "Overfitting",
  diverged: "Diverged",
  not_learning: "Not learning",
  underfitting: "Underfitting",
  unhealthy: "Trained, with problems",
  in_progress: "In progress",
  failed: "Failed",
  cancelled: "Cancelled",
};

// The vocabulary run-time diagnoses and spec-time warnings share, for a code without a title.
export const TITLES = {
  diverged: "Diverged",
  not_learning: "Not learning",
  vanishing_gradients: "Vanishing gradients",
  dead_relus: "Dead ReLUs",
  saturated_activations: "Saturated activations",
  overfitting: "Overfitting",
  underfitting: "Underfitting",
};

export function titleOf(code, title) {
  if (title) return title;
  if (!code) return "";
  return TITLES[code] || code.replaceAll("_", " ").replace(/^./, (c) => c.toUpperCase());
}

/**
 * How a verdict is styled: good (green) only on a healthy success; a success with warnings
 * (overfitting, underfitting…) amber; an error (diverged, not learning, failed) red.
 */
export function tone(verdict) {
  if (!verdict) return "neutral";
  if (verdict.success) return verdict.outcome === "healthy" ? "good" : "caution";
  if (["diverged", "not_learning", "failed"].includes(verdict.outcome)) return "warning";
  if (["in_progress", "cancelled"].includes(verdict.outcome)) return "neutral";
  return "caution";
}

/** The verdict line: "Diverged. The loss became NaN at epoch 1…". */
export function verdictNode(verdict) {
  const outcome = OUTCOMES[verdict.outcome] || verdict.outcome;
  return [el("strong", {}, `Verdict: ${outcome}.`), verdict.summary ? ` ${verdict.summary}` : ""];
}

/** "the loss rose" -> "The loss rose" (evidence is written to follow a colon, too). */
export function sentence(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** One diagnosis as a list item: title, severity, since when, the evidence and the remedies. */
export function diagnosisNode(diagnosis, index) {
  const id = `diagnosis-${index}`;
  const severity = diagnosis.severity === "error" ? "problem" : "warning";
  return el(
    "li",
    { class: `diagnosis diagnosis-${diagnosis.severity}`, "data-code": diagnosis.code, "aria-labelledby": `${id}-title` },
    el(
      "h3",
      { id: `${id}-title` },
      titleOf(diagnosis.code, diagnosis.title),
      " ",
      el("span", { class: `severity severity-${diagnosis.severity}` }, severity),
      diagnosis.since_epoch !== null && diagnosis.since_epoch !== undefined
        ? el("span", { class: "since" }, ` since epoch ${diagnosis.since_epoch}`)
        : null,
    ),
    diagnosis.evidence ? el("p", { class: "evidence" }, sentence(diagnosis.evidence)) : null,
    diagnosis.remedies?.length
      ? [el("p", { class: "try" }, "What to try:"), el("ul", { class: "remedies" }, diagnosis.remedies.map((r) => el("li", {}, r)))]
      : null,
  );
}
