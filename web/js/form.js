// The job form: builds a spec from the fields, submits it, and puts each of the API's
// validation messages next to the field it names (and in a summary at the top).

import { api, ApiError, el } from "./api.js";
import { LayerEditor } from "./layers.js";

const $ = (id) => document.getElementById(id);

export class JobForm {
  constructor(form) {
    this.form = form;
    this.layers = new LayerEditor($("layers"));
    this.classes = { mnist: 10, asl: 24 };
    // Nothing is sent until the form knows the layer kinds and activations it offers.
    $("submit").disabled = true;
    this.layers.onCatalogError = (error) => {
      const text = `Could not load the layer kinds (${error.message}); trying again…`;
      $("form-status").textContent = text;
    };
    this.layers.ready.then(({ activations }) => {
      $("submit").disabled = false;
      if ($("form-status").textContent.startsWith("Could not load the layer kinds")) {
        $("form-status").textContent = "";
      }
      this.showActivations(activations);
    });
    $("validation").addEventListener("change", () => this.showFraction());
    for (const radio of form.querySelectorAll('input[name="model-mode"]'))
      radio.addEventListener("change", () => this.showMode());
    $("add-layer").addEventListener("click", () => this.layers.add());
    let dataset = $("dataset").value;
    $("dataset").addEventListener("change", () => {
      this.layers.fitOutput(this.classes[dataset], this.classes[$("dataset").value]);
      dataset = $("dataset").value;
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.loadDatasets();
  }

  async loadDatasets() {
    try {
      const datasets = await api("v1/datasets?limit=200");
      for (const d of datasets.items) this.classes[d.name] = d.num_classes;
    } catch {
      // The defaults above describe the built-in data sets; the API will say if they are wrong.
    }
  }

  /** The preset's hidden activation: any the server knows but softmax, relu first. */
  showActivations(activations) {
    $("activation").replaceChildren(
      ...activations
        .filter((a) => a !== "softmax")
        .map((a) => el("option", { value: a, selected: a === "relu" }, a)),
    );
  }

  mode() {
    return this.form.querySelector('input[name="model-mode"]:checked').value;
  }

  showMode() {
    $("preset-part").hidden = this.mode() !== "preset";
    $("layers-part").hidden = this.mode() !== "layers";
  }

  showFraction() {
    $("fraction-field").hidden = $("validation").value !== "fraction";
  }

  spec() {
    const value = (id) => $(id).value.trim();
    const integer = (id) => (value(id) === "" ? undefined : Number(value(id)));
    const spec = {
      dataset: { name: value("dataset") },
      model:
        this.mode() === "preset"
          ? { preset: value("preset"), activation: value("activation") }
          : { layers: this.layers.value() },
      loss: value("loss"),
      optimizer: { name: value("optimizer"), learning_rate: integer("learning-rate") },
      epochs: integer("epochs"),
      batch_size: integer("batch-size"),
      seed: integer("seed"),
    };
    if (value("name")) spec.name = value("name");
    if (value("limit")) spec.dataset.limit = integer("limit");
    if (value("validation") === "fraction") spec.dataset.validation = { fraction: integer("fraction") };
    return JSON.parse(JSON.stringify(spec)); // drops the undefined numbers: the API's defaults apply
  }

  async submit() {
    this.clearErrors();
    $("submit").disabled = true;
    $("form-status").textContent = "Submitting…";
    try {
      const job = await api("v1/jobs", { method: "POST", body: this.spec() });
      $("form-status").textContent = `Queued ${job.id}; opening its page…`;
      location.href = `job.html?id=${encodeURIComponent(job.id)}`;
    } catch (error) {
      $("form-status").textContent = "";
      this.showErrors(error);
    } finally {
      $("submit").disabled = false;
    }
  }

  clearErrors() {
    for (const node of this.form.querySelectorAll(".error")) node.textContent = "";
    for (const node of this.form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
    $("form-summary").replaceChildren();
  }

  showErrors(error) {
    const problems =
      error instanceof ApiError && error.problem.errors
        ? error.problem.errors
        : [{ field: null, message: error.message }];
    const items = problems.map((problem) => {
      const control = this.controlFor(problem.field);
      if (control) {
        control.setAttribute("aria-invalid", "true");
        const slot = this.errorSlot(control);
        slot.textContent = slot.textContent ? `${slot.textContent}; ${problem.message}` : problem.message;
      }
      const text = problem.field ? `${problem.field}: ${problem.message}` : problem.message;
      return el(
        "li",
        {},
        control
          ? el("a", { href: `#${control.id}`, onclick: (e) => (e.preventDefault(), control.focus()) }, text)
          : text,
      );
    });
    const title =
      error instanceof ApiError && error.status === 422
        ? "The job was not accepted:"
        : "Could not submit the job:";
    $("form-summary").replaceChildren(el("strong", {}, title), el("ul", {}, items));
    if (error.problem?.fix) $("form-summary").append(el("p", {}, error.problem.fix));
    $("form-summary").focus();
  }

  /** The control a field path names, or the nearest enclosing one ("model.layers[2]"). */
  controlFor(field) {
    if (!field) return null;
    if (this.mode() === "layers" && field === "model") field = "model.layers";
    let path = field;
    while (path) {
      const match = this.form.querySelector(`[data-field="${CSS.escape(path)}"]`);
      if (match && !match.closest("[hidden]")) return match;
      const cut = Math.max(path.lastIndexOf("."), path.lastIndexOf("["));
      path = cut > 0 ? path.slice(0, cut) : "";
    }
    return null;
  }

  errorSlot(control) {
    const id = `${control.id}-error`;
    let slot = document.getElementById(id);
    if (!slot) {
      slot = el("p", { class: "error", id });
      if (control.tagName === "FIELDSET") control.append(slot);
      else control.after(slot);
      control.setAttribute("aria-describedby", id);
    }
    return slot;
  }
}
