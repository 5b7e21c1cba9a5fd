// The layer list editor: one fieldset per layer, its type and the parameters that type takes.
// Every control has a label and a data-field naming it the way the API's errors do
// ("model.layers[1].units"), so a validation message lands next to the right input.

import { el } from "./api.js";

export const ACTIVATIONS = ["relu", "sigmoid", "tanh", "softmax", "linear"];

const PARAMS = {
  flatten: [],
  dense: [
    { name: "units", label: "Units", type: "number", initial: 128 },
    { name: "activation", label: "Activation", options: ACTIVATIONS, initial: "relu" },
  ],
  conv2d: [
    { name: "filters", label: "Filters", type: "number", initial: 32 },
    { name: "kernel_size", label: "Kernel size", type: "number", initial: 3 },
    { name: "activation", label: "Activation", options: ACTIVATIONS, initial: "relu" },
    { name: "padding", label: "Padding", options: ["valid", "same"], initial: "valid" },
  ],
  max_pool2d: [{ name: "pool_size", label: "Pool size", type: "number", initial: 2 }],
  dropout: [{ name: "rate", label: "Rate", type: "number", step: "any", initial: 0.25 }],
};

const TYPE_NAMES = {
  flatten: "flatten",
  dense: "dense",
  conv2d: "conv2d (convolution)",
  max_pool2d: "max_pool2d (pooling)",
  dropout: "dropout",
};

export class LayerEditor {
  constructor(container) {
    this.container = container;
    this.layers = [
      { type: "flatten" },
      { type: "dense", units: 128, activation: "relu" },
      { type: "dense", units: 10, activation: "softmax" },
    ];
    this.render();
  }

  /** The layers as the API wants them; numbers parsed, blanks left out. */
  value() {
    return this.layers.map((layer) => {
      const out = { type: layer.type };
      for (const param of PARAMS[layer.type]) {
        const raw = layer[param.name];
        if (raw === "" || raw === undefined || raw === null) continue;
        out[param.name] = param.type === "number" ? Number(raw) : raw;
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
    for (const param of PARAMS[type]) layer[param.name] = old[param.name] ?? param.initial;
    this.layers[index] = layer;
    this.render(`layer-${index}-type`);
  }

  render(focusId) {
    this.container.replaceChildren(...this.layers.map((layer, index) => this.row(layer, index)));
    if (focusId) document.getElementById(focusId)?.focus();
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
      Object.entries(TYPE_NAMES).map(([value, text]) =>
        el("option", { value, selected: value === layer.type }, text),
      ),
    );
    const params = PARAMS[layer.type].map((param) => this.param(layer, param, prefix, path));
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

  param(layer, param, prefix, path) {
    const id = `${prefix}-${param.name}`;
    const common = { id, "data-field": `${path}.${param.name}`, "aria-describedby": `${id}-error` };
    const update = (e) => {
      layer[param.name] = e.target.value;
    };
    const control = param.options
      ? el(
          "select",
          { ...common, onchange: update },
          param.options.map((o) => el("option", { value: o, selected: o === layer[param.name] }, o)),
        )
      : el("input", {
          ...common,
          type: "number",
          step: param.step || "1",
          value: layer[param.name] ?? "",
          oninput: update,
        });
    return el(
      "div",
      { class: "field" },
      el("label", { for: id }, param.label),
      control,
      el("p", { class: "error", id: `${id}-error` }),
    );
  }
}
