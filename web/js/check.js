// What the server makes of the form, live: as the user edits, the spec is sent to
// POST v1/jobs/validate (debounced; nothing is queued) and the answer shown: each layer's output
// shape and parameter count, the totals, and the warnings for a legal spec known to train badly,
// each titled with the vocabulary the job page's diagnoses use ("Vanishing gradients").

import { ApiError, api, el } from "./api.js";
import { titleOf } from "./diagnosis.js";

const PAUSE_MS = 400; // after the last keystroke

const count = (n) => Number(n).toLocaleString("en-US");
const shape = (dims) => (dims.length ? dims.join(" × ") : "scalar");

export class SpecCheck {
  /**
   * spec(): the form's spec, or throws {problem: {errors}} for fields not ready to send;
   * label(field) and plain(message): a field path and a message in the form's words.
   */
  constructor({ spec, label, plain, parts }) {
    this.spec = spec;
    this.label = label;
    this.plain = plain;
    this.parts = parts; // {status, layers, total, warnings, box}
    this.timer = null;
    this.asked = 0;
  }

  /** Check again once the user pauses. */
  soon() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.now(), PAUSE_MS);
  }

  async now() {
    clearTimeout(this.timer);
    const asked = ++this.asked;
    let spec;
    try {
      spec = this.spec();
    } catch (error) {
      this.notReady(error.problem?.errors || [{ field: null, message: error.message }]);
      return;
    }
    this.parts.box.setAttribute("aria-busy", "true"); // no "Checking…" announced at every keystroke
    try {
      const answer = await api("v1/jobs/validate", { method: "POST", body: spec });
      if (asked !== this.asked) return; // the form changed while this was asked
      this.parts.box.removeAttribute("aria-busy");
      this.show(answer);
    } catch (error) {
      if (asked !== this.asked) return;
      this.parts.box.removeAttribute("aria-busy");
      if (error instanceof ApiError && error.status === 422 && error.problem.errors) {
        this.notReady(error.problem.errors);
      } else {
        this.parts.status.textContent = `Could not check the spec: ${error.message}`;
      }
    }
  }

  describe({ field, message }) {
    return field ? `${this.label(field)}: ${this.plain(message)}` : this.plain(message);
  }

  notReady(problems) {
    const { status, layers, total, warnings, box } = this.parts;
    box.dataset.state = "invalid";
    box.removeAttribute("aria-busy");
    layers.replaceChildren();
    total.textContent = "";
    warnings.replaceChildren();
    const listed = problems.slice(0, 3).map((p) => this.describe(p));
    const more = problems.length > 3 ? ` (and ${problems.length - 3} more)` : "";
    status.textContent = `Not valid yet: ${listed.join("; ")}${more}. Train lists every problem.`;
  }

  show(answer) {
    const { status, layers, total, warnings, box } = this.parts;
    const summary = answer.summary;
    box.dataset.state = "valid";
    status.textContent = `Input ${shape(summary.input_shape)} → output ${shape(summary.output_shape)}${summary.class_names?.length ? ` (${summary.class_names.length} classes)` : ""}.`;
    layers.replaceChildren(
      ...summary.layers.map((layer) =>
        el(
          "tr",
          {},
          el("td", { class: "num" }, String(layer.index + 1)),
          el("td", {}, layer.type),
          el("td", { class: "shape" }, shape(layer.output_shape)),
          el("td", { class: "num" }, count(layer.params)),
        ),
      ),
    );
    total.textContent =
      `${count(summary.total_params)} parameters, ${count(summary.trainable_params)} trainable` +
      (summary.non_trainable_params ? ` (${count(summary.non_trainable_params)} not: batch norm's statistics).` : ".");
    warnings.replaceChildren(
      ...answer.warnings.map((warning) =>
        el(
          "li",
          { "data-code": warning.code || "" },
          warning.code || warning.title ? el("strong", {}, `${titleOf(warning.code, warning.title)}: `) : null,
          warning.field ? `${this.label(warning.field)} — ` : "",
          this.plain(warning.message),
        ),
      ),
    );
  }
}
