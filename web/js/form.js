// The job form: builds a spec from the fields, submits it, and puts each of the API's
// validation messages next to the field it names (and in a summary at the top), in the form's
// own words: "Layer 3, Units: must be greater than 0", not "model.layers[2].units: Input
// should be greater than 0".
//
// What the form offers comes from the server, so the two cannot drift: the layer kinds and
// activations from GET v1/layers, and the optimizers, losses, presets, learning-rate schedules
// and early-stopping settings from the API's schema (openapi.json). The same form submits a
// sweep: the ticked settings' values become a batch (POST v1/batches), one job per combination.

import { api, ApiError, apiUntilAnswered, el, query } from "./api.js";
import { SpecCheck } from "./check.js";
import { LayerEditor } from "./layers.js";
import { LrFinder } from "./lrfind.js";

const $ = (id) => document.getElementById(id);

// Words people use for the API's names, where the name alone says too little.
const NAMES = {
  sgd: "SGD (plain gradient descent)",
  adam: "Adam",
  adamw: "AdamW (Adam, decoupled weight decay)",
  adagrad: "Adagrad",
  rmsprop: "RMSprop",
  nadam: "Nadam (Adam with Nesterov momentum)",
  mse: "mean squared error",
  rmse: "root mean squared error",
  mae: "mean absolute error",
  huber: "Huber",
  binary_crossentropy: "binary cross-entropy",
  categorical_crossentropy: "categorical cross-entropy",
  sparse_categorical_crossentropy: "sparse categorical cross-entropy",
  dense: "dense (512, 512)",
  cnn: "cnn (conv net)",
  exponential_decay: "exponential decay",
  cosine_decay: "cosine decay",
  piecewise_constant: "piecewise constant",
};

// The settings a sweep can vary, with the form's control each one starts from.
const SWEEPABLE = [
  { path: "optimizer.learning_rate", label: "Learning rate", from: "learning-rate", example: "0.1, 0.01, 0.001", kind: "number" },
  { path: "optimizer.name", label: "Optimizer", from: "optimizer", example: "adam, sgd", kind: "text" },
  { path: "batch_size", label: "Batch size", from: "batch-size", example: "32, 128", kind: "integer" },
  { path: "epochs", label: "Epochs", from: "epochs", example: "3, 6", kind: "integer" },
  { path: "seed", label: "Seed", from: "seed", example: "0, 1, 2", kind: "integer" },
];

const LABELS = {
  name: "Name",
  dataset: "Data",
  "dataset.name": "Data set",
  "dataset.limit": "Training rows",
  "dataset.validation": "Validate on",
  "dataset.validation.fraction": "Share held out",
  model: "Model",
  "model.preset": "Preset",
  "model.activation": "Hidden activation",
  "model.layers": "Layers",
  loss: "Loss",
  "optimizer.name": "Optimizer",
  "optimizer.learning_rate": "Learning rate",
  epochs: "Epochs",
  batch_size: "Batch size",
  seed: "Seed",
  early_stopping: "Stop early",
  max_parallel: "Jobs at once",
};

/** "decay_steps" -> "Decay steps". */
function words(name) {
  const text = name.replaceAll("_", " ");
  return text[0].toUpperCase() + text.slice(1);
}

/** A message in the form's words: "Input should be greater than 0" -> "must be greater than 0". */
export function plain(message) {
  return String(message)
    .replace(/^Input should be /, "must be ")
    .replace(/^Field required$/, "is required")
    .replace(/^Extra inputs are not permitted$/, "is not a setting this takes")
    .replace(/\b(?:model\.)?layers\[(\d+)\]/g, (m, i) => `layer ${Number(i) + 1}`)
    .replace(/\b(GET|POST|PUT|DELETE) \/\S+/g, "the API");
}

/** "model.layers[2].units" -> "Layer 3, Units"; "optimizer.learning_rate" -> "Learning rate". */
export function fieldLabel(field) {
  if (!field) return "";
  const layer = /^model\.layers\[(\d+)\](?:\.(\w+))?/.exec(field);
  if (layer) return `Layer ${Number(layer[1]) + 1}${layer[2] ? `, ${words(layer[2])}` : ""}`;
  if (LABELS[field]) return LABELS[field];
  const schedule = /^optimizer\.learning_rate\.(\w+)/.exec(field);
  if (schedule) return `Learning-rate schedule, ${words(schedule[1])}`;
  const early = /^early_stopping\.(\w+)/.exec(field);
  if (early) return `Stop early, ${words(early[1])}`;
  const option = /^optimizer\.(\w+)/.exec(field);
  if (option) return `Optimizer, ${words(option[1])}`;
  const vary = /^vary\.(.+)$/.exec(field);
  if (vary) return `Sweep, ${fieldLabel(vary[1])}`;
  return words(field.split(/[.[\]]+/).filter(Boolean).pop());
}

/** The API's schema, with its $refs followed, read once. */
let schemaRead = null;
function readSchema(onError) {
  schemaRead ??= apiUntilAnswered("openapi.json", onError).then((doc) => {
    const schemas = doc.components.schemas;
    const resolve = (s) => (s && s.$ref ? resolve(schemas[s.$ref.split("/").pop()]) : s);
    return { schemas, resolve };
  });
  return schemaRead;
}

export class JobForm {
  constructor(form) {
    this.form = form;
    this.layers = new LayerEditor($("layers"));
    this.classes = { mnist: 10, asl: 24 };
    this.extras = { schedule: {}, optimizer: {}, early: {} }; // schema-built fields, by name
    // Nothing is sent until the form knows the vocabulary it offers.
    $("submit").disabled = true;
    const onError = (error) => {
      $("form-status").textContent = `Could not load the layer kinds (${error.message}); trying again…`;
    };
    this.layers.onCatalogError = onError;
    this.ready = Promise.all([this.layers.ready, readSchema(onError)]).then(([catalog, schema]) => {
      this.schema = schema;
      this.showActivations(catalog.activations);
      this.showVocabulary();
      $("submit").disabled = false;
      $("submit-sweep").disabled = false;
      this.check.now();
      if ($("form-status").textContent.startsWith("Could not load the layer kinds")) {
        $("form-status").textContent = "";
      }
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
    $("schedule").addEventListener("change", () => this.showSchedule());
    $("optimizer").addEventListener("change", () => this.showOptimizerFields());
    $("early-stopping").addEventListener("change", () => {
      $("early-fields").hidden = !$("early-stopping").checked;
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    $("submit-sweep").addEventListener("click", () => this.submitSweep());
    this.watchSpec();
    this.buildSweep();
    this.loadDatasets();
    const from = query("from");
    if (from) this.ready.then(() => this.copyJob(from));
  }

  /**
   * The live check (shapes, parameters, warnings as the user edits) and the learning-rate
   * finder: both send the spec the form describes now.
   */
  watchSpec() {
    this.check = new SpecCheck({
      spec: () => this.spec(),
      label: fieldLabel,
      plain,
      parts: {
        box: $("spec-check"),
        status: $("check-status"),
        layers: $("check-layers"),
        total: $("check-total"),
        warnings: $("check-warnings"),
      },
    });
    const edited = (event) => {
      // The sweep's values, the finder's controls and the job's name change nothing it checks.
      if (event.target.closest("#sweep-set, #lr-find") || event.target.id === "name") return;
      if (this.schema) this.check.soon();
    };
    this.form.addEventListener("input", edited);
    this.form.addEventListener("change", edited);
    this.layers.onChange = () => this.schema && this.check.soon();
    this.finder = new LrFinder({
      spec: () => this.spec(),
      parts: {
        button: $("lr-find-button"),
        status: $("lr-find-status"),
        progress: $("lr-find-progress"),
        figure: $("lr-find-chart"),
        plot: $("lr-find-plot"),
        summary: $("lr-find-summary"),
        use: $("lr-find-use"),
      },
      onProblem: (error, heading) => {
        this.clearErrors();
        this.showErrors(error, heading);
      },
      onUse: (rate) => {
        $("learning-rate").value = String(rate);
        $("learning-rate").removeAttribute("aria-invalid");
        $("learning-rate").focus();
        this.check.soon();
      },
    });
  }

  async loadDatasets() {
    try {
      const datasets = await api("v1/datasets?limit=200");
      for (const d of datasets.items) {
        this.classes[d.name] = d.num_classes;
        if (![...$("dataset").options].some((o) => o.value === d.name)) {
          $("dataset").append(el("option", { value: d.name }, d.name));
        }
      }
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

  /** Fill every select marked data-vocabulary with its enum from the schema. */
  showVocabulary() {
    const { schemas, resolve } = this.schema;
    for (const select of this.form.querySelectorAll("select[data-vocabulary]")) {
      const values = schemas[select.dataset.vocabulary]?.enum;
      if (!values) continue;
      const current = select.value;
      select.replaceChildren(...values.map((v) => el("option", { value: v, selected: v === current }, NAMES[v] || v)));
    }
    // Schedules: the learning rate's object forms (each has a const "schedule").
    const adam = schemas["Adam-Input"] || schemas.Adam;
    this.schedules = {};
    for (const option of adam?.properties?.learning_rate?.oneOf || []) {
      const schedule = resolve(option);
      const name = schedule?.properties?.schedule?.const;
      if (name) this.schedules[name] = schedule;
    }
    $("schedule").replaceChildren(
      el("option", { value: "" }, "constant"),
      ...Object.keys(this.schedules).map((name) => el("option", { value: name }, NAMES[name] || name)),
    );
    const early = schemas["EarlyStoppingSpec-Input"] || schemas.EarlyStoppingSpec;
    this.extras.early = this.fieldsFrom(early, $("early-fields"), "early", "early_stopping", []);
    this.showOptimizerFields();
  }

  /** Inputs for an object schema's properties (less those skipped), into container. */
  fieldsFrom(schema, container, prefix, path, skip) {
    const fields = {};
    const nodes = [];
    for (const [name, raw] of Object.entries(schema?.properties || {})) {
      if (skip.includes(name)) continue;
      const prop = this.schema.resolve(raw.anyOf ? raw.anyOf.find((s) => s.type !== "null") || raw : raw);
      const id = `${prefix}-${name.replaceAll("_", "-")}`;
      const type = prop.type || "number";
      const common = { id, "data-field": `${path}.${name}`, title: raw.description || "" };
      let control;
      if (type === "boolean") {
        control = el("select", common, el("option", { value: "" }, "default"), el("option", { value: "true" }, "yes"), el("option", { value: "false" }, "no"));
      } else if (prop.enum) {
        control = el("select", common, el("option", { value: "" }, "default"), ...prop.enum.map((v) => el("option", { value: v }, v)));
      } else {
        control = el("input", {
          ...common,
          type: type === "array" || type === "string" ? "text" : "number",
          step: type === "integer" ? "1" : "any",
          placeholder: /Default: ([^.]+(?:\.\d+)?)/.exec(raw.description || "")?.[1] || (type === "array" ? "1, 2, 3" : ""),
        });
      }
      fields[name] = { control, type, required: (schema.required || []).includes(name) };
      nodes.push(el("div", { class: "field" }, el("label", { for: id }, words(name), fields[name].required ? "" : el("span", { class: "hint" }, " (optional)")), control));
    }
    container.replaceChildren(...nodes);
    return fields;
  }

  showSchedule() {
    const schedule = this.schedules[$("schedule").value];
    this.extras.schedule = schedule
      ? this.fieldsFrom(schedule, $("schedule-fields"), "schedule", "optimizer.learning_rate", ["schedule", "initial_learning_rate", "values"])
      : {};
    if (!schedule) $("schedule-fields").replaceChildren();
    // Piecewise constant takes a list of rates instead of one.
    $("learning-rate").previousElementSibling.textContent = schedule?.properties?.values ? "Learning rates (one more than boundaries)" : schedule ? "Initial learning rate" : "Learning rate";
    $("learning-rate").type = schedule?.properties?.values ? "text" : "number";
  }

  showOptimizerFields() {
    const { schemas } = this.schema;
    const name = $("optimizer").value;
    const all = Object.values(schemas).filter((s) => s.properties?.name?.const === name);
    const schema = all.find((s) => (s.title || "").endsWith("Input")) || all[0];
    this.extras.optimizer = this.fieldsFrom(schema, $("optimizer-fields"), "opt", "optimizer", ["name", "learning_rate"]);
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

  /** Read schema-built fields: blanks left out, so the server's defaults apply. */
  readExtras(fields) {
    const out = {};
    for (const [name, { control, type }] of Object.entries(fields)) {
      const raw = control.value.trim();
      if (raw === "") continue;
      if (type === "boolean") out[name] = raw === "true";
      else if (type === "array") out[name] = raw.split(/[\s,]+/).filter(Boolean).map(Number);
      else if (type === "string") out[name] = raw;
      else out[name] = Number(raw);
    }
    return out;
  }

  /**
   * The spec the fields describe, or throws a list of {field, message} for fields that must not
   * be sent as they are (a cleared learning rate would silently train with the default).
   */
  spec() {
    const value = (id) => $(id).value.trim();
    const missing = [];
    const required = (id, field, what) => {
      if (value(id) === "") missing.push({ field, message: `is empty: ${what}` });
      return value(id) === "" ? undefined : Number(value(id));
    };
    const schedule = $("schedule").value;
    let rate;
    if (schedule && this.schedules[schedule]?.properties?.values) {
      rate = { schedule, values: value("learning-rate").split(/[\s,]+/).filter(Boolean).map(Number), ...this.readExtras(this.extras.schedule) };
      if (!rate.values.length) missing.push({ field: "optimizer.learning_rate", message: "is empty: enter the rates, e.g. 0.01, 0.001" });
    } else {
      const number = required("learning-rate", "optimizer.learning_rate", "enter a number such as 0.001");
      rate = schedule ? { schedule, initial_learning_rate: number, ...this.readExtras(this.extras.schedule) } : number;
    }
    const spec = {
      dataset: { name: value("dataset") },
      model:
        this.mode() === "preset"
          ? { preset: value("preset"), activation: value("activation") }
          : { layers: this.layers.value() },
      loss: value("loss"),
      optimizer: { name: value("optimizer"), learning_rate: rate, ...this.readExtras(this.extras.optimizer) },
      epochs: required("epochs", "epochs", "enter how many passes over the data, e.g. 5"),
      batch_size: required("batch-size", "batch_size", "enter how many rows per step, e.g. 32"),
      seed: value("seed") === "" ? undefined : Number(value("seed")),
    };
    if (value("name")) spec.name = value("name");
    if (value("limit")) spec.dataset.limit = Number(value("limit"));
    if (value("validation") === "fraction") spec.dataset.validation = { fraction: Number(value("fraction")) };
    if ($("early-stopping").checked) spec.early_stopping = this.readExtras(this.extras.early);
    if (missing.length) throw new FormProblems(missing);
    return JSON.parse(JSON.stringify(spec)); // drops the undefined numbers: the API's defaults apply
  }

  async submit() {
    this.clearErrors();
    let spec;
    try {
      spec = this.spec();
    } catch (error) {
      this.showErrors(error);
      return;
    }
    $("submit").disabled = true;
    $("form-status").textContent = "Submitting…";
    try {
      const job = await api("v1/jobs", { method: "POST", body: spec });
      $("form-status").textContent = `Queued ${job.id}; opening its page…`;
      location.href = `job.html?id=${encodeURIComponent(job.id)}`;
    } catch (error) {
      $("form-status").textContent = "";
      this.showErrors(error);
    } finally {
      $("submit").disabled = false;
    }
  }

  buildSweep() {
    const rows = SWEEPABLE.map((item) => {
      const id = `vary-${item.from}`;
      const box = el("input", {
        type: "checkbox",
        id: `${id}-on`,
        onchange: (e) => {
          values.disabled = !e.target.checked;
          if (e.target.checked && !values.value) values.value = item.example;
          this.countSweep();
        },
      });
      const values = el("input", {
        id,
        type: "text",
        disabled: true,
        class: "sweep-values",
        "data-field": `vary.${item.path}`,
        placeholder: item.example,
        "aria-label": `${item.label} values`,
        oninput: () => this.countSweep(),
      });
      item.box = box;
      item.values = values;
      return el("div", { class: "field" }, el("label", { for: `${id}-on` }, box, ` Vary ${item.label.toLowerCase()}`), values);
    });
    $("sweep-fields").replaceChildren(...rows);
  }

  vary() {
    const vary = {};
    for (const item of SWEEPABLE) {
      if (!item.box.checked) continue;
      const raw = item.values.value.split(",").map((v) => v.trim()).filter(Boolean);
      vary[item.path] = item.kind === "text" ? raw : raw.map(Number);
    }
    return vary;
  }

  countSweep() {
    const lists = Object.values(this.vary());
    const count = lists.reduce((n, list) => n * list.length, lists.length ? 1 : 0);
    $("sweep-count").textContent = count ? `${count} job${count > 1 ? "s" : ""} in this sweep.` : "";
  }

  async submitSweep() {
    this.clearErrors();
    const vary = this.vary();
    const problems = [];
    for (const item of SWEEPABLE) {
      if (!item.box.checked) continue;
      const list = vary[item.path];
      if (!list.length) problems.push({ field: `vary.${item.path}`, message: "has no values: list them separated by commas" });
      else if (item.kind !== "text" && list.some((v) => !Number.isFinite(v))) {
        problems.push({ field: `vary.${item.path}`, message: "takes numbers only, separated by commas" });
      }
    }
    if (!Object.keys(vary).length) problems.push({ field: null, message: "Tick at least one setting to vary in the Sweep section." });
    let base;
    try {
      base = this.spec();
    } catch (error) {
      problems.push(...error.problem.errors.filter((p) => !(p.field in vary)));
    }
    if (problems.length) {
      this.showErrors(new FormProblems(problems), "The sweep was not submitted:");
      return;
    }
    const parallel = $("sweep-parallel").value.trim();
    const body = { name: base.name || "sweep", base, vary, ...(parallel ? { max_parallel: Number(parallel) } : {}) };
    $("submit-sweep").disabled = true;
    $("form-status").textContent = "Submitting the sweep…";
    try {
      const batch = await api("v1/batches", { method: "POST", body });
      location.href = `search.html?batch=${encodeURIComponent(batch.id)}`;
    } catch (error) {
      $("form-status").textContent = "";
      this.showErrors(error, "The sweep was not accepted:");
    } finally {
      $("submit-sweep").disabled = false;
    }
  }

  /** "Train again with changes": put a job's spec into the form. */
  async copyJob(id) {
    try {
      const job = await api(`v1/jobs/${encodeURIComponent(id)}`);
      this.fill(job);
      this.check.soon();
      $("form-status").textContent = `Copied from ${job.name || job.id.slice(0, 8)}: change what you like, then Train.`;
      $("name").focus();
    } catch (error) {
      $("form-status").textContent = `Could not copy that job: ${error.message}`;
    }
  }

  fill(job) {
    const spec = job.spec;
    const set = (id, value) => {
      if (value !== undefined && value !== null) $(id).value = String(value);
    };
    set("name", job.name ? `${job.name} again` : "");
    if (![...$("dataset").options].some((o) => o.value === spec.dataset.name)) {
      $("dataset").append(el("option", { value: spec.dataset.name }, spec.dataset.name));
    }
    set("dataset", spec.dataset.name);
    set("limit", spec.dataset.limit ?? "");
    const validation = spec.dataset.validation;
    if (validation && typeof validation === "object" && validation.fraction) {
      set("validation", "fraction");
      set("fraction", validation.fraction);
    } else {
      set("validation", "test");
    }
    this.showFraction();
    if (spec.model.preset) {
      this.form.querySelector('input[value="preset"]').checked = true;
      set("preset", spec.model.preset);
      set("activation", spec.model.activation || "relu");
    } else {
      this.form.querySelector('input[value="layers"]').checked = true;
      this.layers.layers = spec.model.layers.map((layer) => ({ ...layer }));
      this.layers.render();
    }
    this.showMode();
    set("loss", spec.loss);
    set("optimizer", spec.optimizer.name);
    this.showOptimizerFields();
    for (const [name, field] of Object.entries(this.extras.optimizer)) {
      const v = spec.optimizer[name];
      if (v !== undefined && v !== null) field.control.value = String(v);
    }
    const rate = spec.optimizer.learning_rate;
    if (typeof rate === "number") {
      set("schedule", "");
      this.showSchedule();
      set("learning-rate", rate);
    } else {
      set("schedule", rate.schedule);
      this.showSchedule();
      set("learning-rate", rate.values ? rate.values.join(", ") : rate.initial_learning_rate);
      for (const [name, field] of Object.entries(this.extras.schedule)) {
        const v = rate[name];
        if (v !== undefined && v !== null) field.control.value = Array.isArray(v) ? v.join(", ") : String(v);
      }
    }
    set("epochs", spec.epochs);
    set("batch-size", spec.batch_size);
    set("seed", spec.seed);
    $("early-stopping").checked = Boolean(spec.early_stopping);
    $("early-fields").hidden = !spec.early_stopping;
    for (const [name, field] of Object.entries(this.extras.early)) {
      const v = spec.early_stopping?.[name];
      if (v !== undefined && v !== null) field.control.value = String(v);
    }
  }

  clearErrors() {
    for (const node of this.form.querySelectorAll(".error")) node.textContent = "";
    for (const node of this.form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
    $("form-summary").replaceChildren();
  }

  showErrors(error, heading) {
    const problems =
      (error instanceof ApiError || error instanceof FormProblems) && error.problem.errors
        ? error.problem.errors
        : [{ field: null, message: error.message }];
    const items = problems.map((problem) => {
      const field = problem.field?.replace(/^(base|specs\[\d+\])\./, "") ?? null;
      const control = this.controlFor(field);
      const message = plain(problem.message);
      if (control) {
        control.setAttribute("aria-invalid", "true");
        const slot = this.errorSlot(control);
        slot.textContent = slot.textContent ? `${slot.textContent}; ${message}` : message;
      }
      const text = field ? `${fieldLabel(field)}: ${message}` : message;
      return el(
        "li",
        {},
        control
          ? el("a", { href: `#${control.id}`, onclick: (e) => (e.preventDefault(), control.focus()) }, text)
          : text,
      );
    });
    const title =
      heading ||
      (error instanceof FormProblems || (error instanceof ApiError && error.status === 422)
        ? "The job was not accepted:"
        : "Could not submit the job:");
    $("form-summary").replaceChildren(el("strong", {}, title), el("ul", {}, items));
    const fix = error.problem?.fix;
    if (fix && !/\/v\d|\/docs|\b(GET|POST)\b/.test(fix)) $("form-summary").append(el("p", {}, plain(fix)));
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

/** Problems the form finds before sending anything, shaped like the API's 422. */
class FormProblems extends Error {
  constructor(errors) {
    super(errors.map((e) => e.message).join("; "));
    this.problem = { errors };
  }
}
