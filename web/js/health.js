// Layer health: the gradient norm of each trainable layer over the epochs, on a log scale (a
// layer whose gradient is orders of magnitude below the others is hardly learning), and a table
// of the last epoch's measures (weight norm, update ratio, dead or saturated units) that also
// gives the chart's numbers in words.

import { el, number, percent } from "./api.js";
import { Chart, PALETTE } from "./charts.js";

const DASHES = [undefined, [8, 4], [2, 3], [10, 3, 2, 3]];

/** "dense_1 (layer 2, dense, relu)": how a layer is named on the chart and in the table. */
function layerName(entry) {
  const kind = [entry.type, entry.activation].filter(Boolean).join(" ");
  return `${entry.layer} (layer ${entry.index + 1}${kind ? `, ${kind}` : ""})`;
}

/** A positive number for a log scale, or null (zero, NaN, unknown: no point). */
function positive(value) {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : null;
}

export class HealthView {
  constructor({ part, chart, summary, table, caption }) {
    this.part = part;
    this.figure = chart;
    this.summary = summary;
    this.table = table;
    this.caption = caption;
    this.chart = null;
    this.layers = ""; // the layer names the chart was built for
  }

  /** rows: the history's epoch rows in order; xMax: where the epoch axis ends. */
  update(rows, { xMax = 1 } = {}) {
    const measured = rows.filter((row) => Array.isArray(row.health) && row.health.length);
    this.part.hidden = measured.length === 0;
    if (!measured.length) return;
    const last = measured[measured.length - 1];
    const layers = last.health.map((entry) => ({ key: entry.index, name: layerName(entry) }));
    const names = layers.map((l) => l.name).join("|");
    if (names !== this.layers) {
      // A new set of layers (the first epoch, or another attempt): a chart with one line each.
      this.chart?.destroy();
      this.chart = new Chart(this.figure, {
        title: "Gradient norm per layer",
        log: true,
        yLabel: "gradient norm",
        series: layers.map((layer, i) => ({
          label: layer.name,
          stroke: PALETTE[i % PALETTE.length],
          dash: DASHES[Math.floor(i / PALETTE.length) % DASHES.length],
        })),
      });
      this.layers = names;
    }
    const epochs = measured.map((row) => row.epoch);
    const ys = layers.map(({ key }) =>
      measured.map((row) => positive(row.health.find((entry) => entry.index === key)?.gradient_norm)),
    );
    this.chart.set(epochs, ys, { xMax });
    this.figure.dataset.series = String(layers.length);
    const first = last.health[0];
    const final = last.health[last.health.length - 1];
    this.summary.textContent =
      `Gradient norm of each of ${layers.length} trainable layers by epoch, log scale; at epoch ${last.epoch} ` +
      `from ${number(first.gradient_norm)} (${first.layer}, the first) to ${number(final.gradient_norm)} (${final.layer}, the last).`;
    this.showTable(last);
  }

  showTable(row) {
    this.caption.textContent = `Each layer at epoch ${row.epoch}, measured on a fixed sample of training rows.`;
    this.table.replaceChildren(
      ...row.health.map((entry) =>
        el(
          "tr",
          {},
          el("th", { scope: "row" }, layerName(entry)),
          ...[
            number(entry.weight_norm),
            number(entry.gradient_norm),
            number(entry.update_ratio),
            entry.dead_fraction === null || entry.dead_fraction === undefined ? "—" : percent(entry.dead_fraction),
            entry.saturated_fraction === null || entry.saturated_fraction === undefined ? "—" : percent(entry.saturated_fraction),
          ].map((v) => el("td", { class: "num" }, v)),
        ),
      ),
    );
  }
}
