// The layer list editor: one fieldset per layer, its type and the parameters that type takes.
// Every control has a label and a data-field naming it the way the API's errors do
// ("model.layers[1].units"), so a validation message lands next to the right input.

import { apiUntilAnswered, el } from "./api.js";

/**
 * The layer kinds and activations the server knows (GET v1/layers): each kind lists its fields
 * with their types, defaults and allowed values, so a kind added on the server appears here.
 */
export function loadCatalog(onError) {
  return apiUntilAnswered("v1/layers", onError);
}

// How a field's value is written in an input and read back for the spec.
const sizes = (raw) => String(raw).split(/[\s,×x]+/).filter(Boolean).map(Number);
const shown = (value) => (Array.isArray(value) ? value.join(", ") : value);
const parse = {
  integer: Number,
  number: Number,
  size: (raw) => (sizes(raw).length === 1 ? sizes(raw)[0] : sizes(raw)),
  sizes,
  boolean: (raw) => raw === "true",
  choice: (raw) => raw,
};

export class LayerEditor {
  constructor(container) {
    this.container = container;
    this.onChange = null; // called after the list is drawn again (edits in a field bubble as input events)
    this.kinds = new Map();
    this.layers = [
      { type: "flatten" },
      { type: "dense", units: 128, activation: "relu" },
      { type: "dense", units: 10, activation: "softmax" },
    ];
    this.ready = loadCatalog((error) => this.onCatalogError?.(error)).then((catalog) => {
      for (const kind of catalog.kinds) this.kinds.set(kind.type, kind);
      this.render();
      return catalog;
    });
  }

  /** The fields the form offers for a layer type. */
  fields(type) {
    return (this.kinds.get(type)?.fields || []).filter((field) => field.in_form);
  }

  /** The layers as the API wants them; numbers parsed, blanks left out. */
  value() {
    return this.layers.map((layer) => {
      const out = { type: layer.type };
      for (const field of this.fields(layer.type)) {
        const raw = layer[field.name];
        if (raw === "" || raw === undefined || raw === null) continue;
        out[field.name] = typeof raw === "string" ? parse[field.type](raw) : raw;
      }
      return out;
    });
  }

  /** Keep the output layer one unit per class when the data set changes. */
  fitOutput(oldClasses, newClasses) {
    const last = this.layers[this.layers.length - 1];
    if (last && last.type === "dense" && Number(last.units) === oldClasses) {
      last.units = newClasses;
      this.render();
    }
  }

  add() {
    this.layers.splice(this.layers.length - 1, 0, { type: "dense", units: 64, activation: "relu" });
    this.render(`layer-${this.layers.length - 2}-type`);
  }

  move(index, step) {
    const target = index + step;
    if (target < 0 || target >= this.layers.length) return;
    [this.layers[index], this.layers[target]] = [this.layers[target], this.layers[index]];
    this.render(`layer-${target}-${step < 0 ? "up" : "down"}`);
  }

  remove(index) {
    this.layers.splice(index, 1);
    this.render(`layer-${Math.min(index, this.layers.length - 1)}-type`);
  }

  setType(index, type) {
    const old = this.layers[index];
    const layer = { type };
    for (const field of this.fields(type)) layer[field.name] = old[field.name] ?? field.example;
    this.layers[index] = layer;
    this.render(`layer-${index}-type`);
  }

  render(focusId) {
    this.container.replaceChildren(...this.layers.map((layer, index) => this.row(layer, index)));
    if (focusId) document.getElementById(focusId)?.focus();
    this.onChange?.(); // the list changed: a layer added, moved, removed or retyped
  }

  row(layer, index) {
    const prefix = `layer-${index}`;
    const path = `model.layers[${index}]`;
    const typeSelect = el(
      "select",
      {
        id: `${prefix}-type`,
        "data-field": `${path}.type`,
        "aria-describedby": `${prefix}-type-error`,
        onchange: (e) => this.setType(index, e.target.value),
      },
      [...this.kinds.values()].map((kind) =>
        el(
          "option",
          { value: kind.type, selected: kind.type === layer.type, title: kind.description },
          kind.summary ? `${kind.type} (${kind.summary})` : kind.type,
        ),
      ),
    );
    const params = this.fields(layer.type).map((field) => this.param(layer, field, prefix, path));
    const last = this.layers.length - 1;
    return el(
      "fieldset",
      { class: "layer", "data-field": path, id: prefix },
      el("legend", {}, `Layer ${index + 1}`, index === last ? " (output)" : ""),
      el(
        "div",
        { class: "params" },
        el(
          "div",
          { class: "field" },
          el("label", { for: `${prefix}-type` }, "Type"),
          typeSelect,
          el("p", { class: "error", id: `${prefix}-type-error` }),
        ),
        params,
      ),
      el("p", { class: "error", id: `${prefix}-error` }),
      el(
        "div",
        { class: "tools" },
        el(
          "button",
          {
            type: "button",
            class: "small",
            id: `${prefix}-up`,
            disabled: index === 0,
            "aria-label": `Move layer ${index + 1} up`,
            onclick: () => this.move(index, -1),
          },
          "↑",
        ),
        el(
          "button",
          {
            type: "button",
            class: "small",
            id: `${prefix}-down`,
            disabled: index === last,
            "aria-label": `Move layer ${index + 1} down`,
            onclick: () => this.move(index, 1),
          },
          "↓",
        ),
        el(
          "button",
          {
            type: "button",
            class: "small",
            disabled: this.layers.length === 1,
            "aria-label": `Remove layer ${index + 1}`,
            onclick: () => this.remove(index),
          },
          "Remove",
        ),
      ),
    );
  }

  param(layer, field, prefix, path) {
    const id = `${prefix}-${field.name}`;
    const common = {
      id,
      "data-field": `${path}.${field.name}`,
      "aria-describedby": `${id}-error`,
      title: field.description,
    };
    const update = (e) => {
      layer[field.name] = e.target.value;
    };
    const value = layer[field.name];
    const options = field.type === "boolean" ? ["true", "false"] : field.options;
    const control = options
      ? el(
          "select",
          { ...common, onchange: update },
          options.map((o) => el("option", { value: o, selected: o === String(value) }, o)),
        )
      : el("input", {
          ...common,
          ...(field.type === "integer" || field.type === "number"
            ? { type: "number", step: field.type === "number" ? "any" : "1" }
            : { type: "text", inputmode: "numeric" }),
          value: shown(value) ?? "",
          oninput: update,
        });
    return el(
      "div",
      { class: "field" },
      el("label", { for: id }, field.label),
      control,
      el("p", { class: "error", id: `${id}-error` }),
    );
  }
}
