// Learning curves on uPlot (vendored under vendor/uplot, loaded as the global `uPlot`).
// Epoch 0 — the untrained model — is always the first point, so each curve starts where
// training starts. The best epoch is a dashed green line; overfitting is a shaded red band.
//
// A chart is drawn once and then fed new data in place (Chart.set), so the reader's zoom, the
// lines they hid in the legend and the page's scroll position survive every update. Each chart
// has its own tools: log scale, smoothing (an exponential moving average, with the raw points
// kept faint) and a zoom reset; drag across the plot to zoom, double-click to reset; hovering
// shows every line's value at the cursor in the legend.

import { el } from "./api.js";

export const TRAIN = "#2563eb";
export const VALIDATION = "#ea580c";
export const PALETTE = [
  "#2563eb",
  "#ea580c",
  "#16a34a",
  "#9333ea",
  "#dc2626",
  "#0891b2",
  "#ca8a04",
  "#db2777",
];

const HEIGHT = 260;
const LABEL_ROW = 18; // px above the plot kept for the "best" and "overfitting" labels

/** Where the epoch axis ends: the planned epochs, so the axis is right from the first point
 * and never jumps; a run that went past its plan (resumed, early stopped) widens it. */
export function axisEnd(lastEpoch, plannedEpochs) {
  return Math.max(1, plannedEpochs, lastEpoch);
}

/** Exponential moving average; nulls stay null and do not reset the average. */
export function smooth(values, weight) {
  if (!weight) return values;
  let last = null;
  return values.map((v) => {
    if (v === null || v === undefined) return null;
    last = last === null ? v : last * weight + v * (1 - weight);
    return last;
  });
}

function faint(colour) {
  return `${colour}55`; // the same colour at a third of its strength (#rrggbbaa)
}

function markers(chart) {
  return {
    hooks: {
      draw: [
        (u) => {
          const { best, overfittingSince, success } = chart.marks;
          // The best epoch is green only for a run that worked; otherwise it is only "lowest so far".
          const bestColour = success === false ? "#475569" : "#15803d";
          const ctx = u.ctx;
          const { left, top, width, height } = u.bbox;
          const scale = devicePixelRatio || 1;
          const right = left + width;
          const labelY = top - 5 * scale; // in the row kept above the plot: never on a curve
          ctx.save();
          ctx.font = `${12 * scale}px system-ui, sans-serif`;
          ctx.textBaseline = "alphabetic";
          const placed = [];
          // Draw a label starting at x, moved left to fit and right of one already there.
          const label = (text, x, colour) => {
            const w = ctx.measureText(text).width;
            let at = Math.min(Math.max(left, x), right - w);
            for (const [a, b] of placed) if (at < b + 6 * scale && at + w > a) at = b + 6 * scale;
            if (at + w > right) at = Math.max(left, placed.length ? placed[0][0] - w - 6 * scale : left);
            placed.push([at, at + w]);
            ctx.fillStyle = colour;
            ctx.textAlign = "left";
            ctx.fillText(text, at, labelY);
          };
          const inView = (epoch) => {
            const x = u.valToPos(epoch, "x", true);
            return x >= left - 1 && x <= right + 1 ? x : null;
          };
          if (best !== null && best !== undefined && inView(best) !== null) {
            const x = inView(best);
            ctx.strokeStyle = bestColour;
            ctx.lineWidth = 2 * scale;
            ctx.setLineDash([6 * scale, 4 * scale]);
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + height);
            ctx.stroke();
            ctx.setLineDash([]);
            label(`best ${best}`, x + 3 * scale, bestColour);
          }
          if (overfittingSince !== null && overfittingSince !== undefined) {
            const x = Math.max(left, u.valToPos(overfittingSince, "x", true));
            if (x < right) {
              ctx.fillStyle = "rgba(220, 38, 38, 0.10)";
              ctx.fillRect(x, top, right - x, height);
              label("overfitting", x + 3 * scale, "#b91c1c");
            }
          }
          ctx.restore();
        },
      ],
    },
  };
}

let counter = 0;

/**
 * One chart: x is the epoch, each series a line.
 * series: [{label, stroke, dash}]; percent: values are fractions shown as %;
 * batches: also draw per-batch points (Chart.setBatches) as dots; log: start on a log y scale;
 * yLabel: a name for the y axis.
 */
export class Chart {
  constructor(container, { title, series, percent = false, batches = false, log = false, yLabel = null }) {
    this.container = container;
    this.title = title;
    this.yLabel = yLabel;
    this.percent = percent;
    this.series = series;
    this.batches = batches;
    this.marks = { best: null, overfittingSince: null, success: null };
    this.xMax = 1;
    this.zoomed = null; // [min, max] while the reader has zoomed in
    this.log = log && !percent;
    this.weight = 0;
    this.data = { xs: [], ys: series.map(() => []), batchXs: [], batchYs: [] };
    this.hidden = new Set(); // series labels the reader switched off in the legend
    this.id = `chart-${++counter}`;
    this.tools = this.toolbar();
    this.plotBox = el("div", { class: "plot" });
    container.append(this.tools, this.plotBox);
    this.build();
    this.observer = new ResizeObserver(() => {
      const width = this.width();
      if (width !== this.plot.width) this.plot.setSize({ width, height: HEIGHT });
    });
    this.observer.observe(container);
  }

  toolbar() {
    const id = this.id;
    this.logBox = el("input", {
      type: "checkbox",
      id: `${id}-log`,
      disabled: this.percent,
      checked: this.log,
      onchange: (e) => {
        this.log = e.target.checked;
        this.build();
      },
    });
    this.smoothing = el("input", {
      type: "range",
      id: `${id}-smooth`,
      min: "0",
      max: "0.95",
      step: "0.05",
      value: "0",
      onchange: (e) => {
        this.weight = Number(e.target.value);
        this.build();
      },
    });
    this.resetButton = el(
      "button",
      { type: "button", class: "small", id: `${id}-reset`, disabled: true, onclick: () => this.resetZoom() },
      "Reset zoom",
    );
    return el(
      "div",
      { class: "chart-tools" },
      this.percent ? null : el("label", { for: `${id}-log` }, this.logBox, " Log scale"),
      el("label", { for: `${id}-smooth` }, "Smoothing ", this.smoothing),
      this.resetButton,
      el("span", { class: "hint" }, "Drag across the plot to zoom."),
    );
  }

  width() {
    return Math.max(200, Math.floor(this.container.clientWidth || 600));
  }

  /** uPlot's series for the current settings: smoothed lines, then faint raw ones, then batches. */
  uplotSeries() {
    const format = (v) =>
      v === null || v === undefined ? "—" : this.percent ? `${(v * 100).toFixed(1)}%` : v.toPrecision(4);
    const lines = this.series.map((s) => ({
      label: s.label,
      stroke: s.stroke,
      width: s.width ?? 2,
      dash: s.dash,
      spanGaps: true,
      show: !this.hidden.has(s.label),
      points: { show: true, size: 5 },
      value: (u, v) => format(v),
    }));
    const raw = this.weight
      ? this.series.map((s) => ({
          label: `${s.label} (raw)`,
          stroke: faint(s.stroke),
          width: 1,
          dash: s.dash,
          spanGaps: true,
          show: !this.hidden.has(s.label),
          points: { show: true, size: 3, stroke: faint(s.stroke), fill: faint(s.stroke) },
          value: (u, v) => format(v),
        }))
      : [];
    const batch = this.batches
      ? [
          {
            label: "batch loss",
            stroke: "#64748b",
            width: 0,
            paths: () => null,
            show: !this.hidden.has("batch loss"),
            points: { show: true, size: 3, stroke: "#64748b", fill: "#94a3b8" },
            value: (u, v) => format(v),
          },
        ]
      : [];
    return [...lines, ...raw, ...batch];
  }

  /** The rows uPlot draws: the epoch points and batch points on one x axis. */
  rows() {
    const { xs, ys, batchXs, batchYs } = this.data;
    const smoothed = ys.map((y) => smooth(y, this.weight));
    const raw = this.weight ? ys : [];
    if (!this.batches || !batchXs.length) {
      return [xs, ...smoothed, ...raw, ...(this.batches ? [xs.map(() => null)] : [])];
    }
    const all = [...new Set([...xs, ...batchXs])].sort((a, b) => a - b);
    const at = (keys, values) => {
      const byX = new Map(keys.map((k, i) => [k, values[i]]));
      return all.map((x) => byX.get(x) ?? null);
    };
    return [all, ...smoothed.map((y) => at(xs, y)), ...raw.map((y) => at(xs, y)), at(batchXs, batchYs)];
  }

  build() {
    const percent = this.percent;
    const series = this.uplotSeries();
    const options = {
      title: this.title,
      width: this.width(),
      height: HEIGHT,
      padding: [LABEL_ROW, 12, 0, 0],
      scales: {
        x: { time: false, auto: false },
        y: this.log
          ? { distr: 3 }
          : { range: (u, min, max) => (percent ? [0, 1] : [Math.min(0, min ?? 0), max > 0 ? max * 1.08 : 1]) },
      },
      axes: [
        {
          label: "epoch",
          incrs: [0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500],
          values: (u, ticks) => ticks.map((t) => (t === null || t === undefined ? "" : String(+t.toFixed(2)))),
        },
        {
          size: 56,
          label: this.yLabel ?? undefined,
          values: (u, ticks) =>
            ticks.map((v) =>
              v === null || v === undefined ? "" : percent ? `${Math.round(v * 100)}%` : String(+v.toPrecision(3)),
            ),
        },
      ],
      cursor: {
        drag: { x: true, y: false, setScale: true },
        bind: {
          dblclick: () => () => {
            this.resetZoom();
            return null;
          },
        },
      },
      series: [{ label: "epoch", value: (u, v) => (v === null || v === undefined ? "—" : String(+v.toFixed(2))) }, ...series],
      legend: { live: true },
      hooks: {
        setScale: [
          (u, key) => {
            // The chart's own setScale calls (at creation and on each update) are flagged; any
            // other change of the epoch range is the reader's drag-zoom.
            if (key !== "x") return;
            this.container.dataset.xRange = `${+u.scales.x.min.toFixed(3)},${+u.scales.x.max.toFixed(3)}`;
            if (this.settingScale) return;
            const { min, max } = u.scales.x;
            if (min === 0 && max === Math.max(this.xMax, 1)) return;
            this.zoomed = [min, max];
            this.resetButton.disabled = false;
          },
        ],
        setSeries: [
          (u, index) => {
            if (index === null || index === undefined) return;
            const s = u.series[index];
            const label = s.label.replace(/ \(raw\)$/, "");
            if (s.show) this.hidden.delete(label);
            else this.hidden.add(label);
          },
        ],
      },
      plugins: [markers(this)],
    };
    this.plot?.destroy();
    this.settingScale = true;
    this.plot = new uPlot(options, this.rows(), this.plotBox);
    this.settingScale = false;
    this.container.dataset.yScale = this.log ? "log" : "linear";
    // The faint raw lines share their smoothed line's legend entry.
    const legendRows = this.plotBox.querySelectorAll(".u-legend .u-series");
    series.forEach((s, i) => {
      if (s.label.endsWith(" (raw)")) legendRows[i + 1]?.setAttribute("hidden", "");
    });
    this.applyX();
  }

  applyX() {
    const [min, max] = this.zoomed || [0, Math.max(this.xMax, 1)];
    this.settingScale = true;
    this.plot.setScale("x", { min, max });
    this.settingScale = false;
  }

  resetZoom() {
    this.zoomed = null;
    this.resetButton.disabled = true;
    this.applyX();
  }

  /** xs: epochs; ys: one array per series, aligned with xs (null where unknown). */
  set(xs, ys, { xMax = 1, best = null, overfittingSince = null, success = null } = {}) {
    this.xMax = Math.max(xMax, xs.length ? xs[xs.length - 1] : 0);
    this.marks = { best, overfittingSince, success };
    this.data.xs = xs;
    this.data.ys = ys;
    this.redraw();
    this.container.dataset.points = String(xs.length);
  }

  /** Per-batch points: x is a fractional epoch (epoch - 1 + step / steps). */
  setBatches(xs, ys) {
    this.data.batchXs = xs;
    this.data.batchYs = ys;
    this.redraw();
  }

  redraw() {
    this.plot.setData(this.rows());
    this.applyX();
  }

  destroy() {
    this.observer.disconnect();
    this.plot.destroy();
    this.tools.remove();
    this.plotBox.remove();
  }
}
