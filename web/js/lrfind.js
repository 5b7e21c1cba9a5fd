// "Find a learning rate": a learning-rate range test (POST v1/lr-find) on the form's spec. The
// server trains a few hundred steps while the rate grows exponentially, and answers the loss at
// each rate and a suggested rate; the page shows the run's progress, draws loss against rate
// (log x), and offers "Use <rate>", which fills the learning-rate field.

import { ApiError, api, number } from "./api.js";
import { sentence } from "./diagnosis.js";

const POLL_MS = 1000;
const HEIGHT = 220;

/** A rate as a person would type it: two significant digits. */
export function roundRate(rate) {
  return Number(rate.toPrecision(2));
}

function suggestionMark(suggested) {
  return {
    hooks: {
      draw: [
        (u) => {
          if (!suggested) return;
          const x = u.valToPos(suggested, "x", true);
          const { top, height } = u.bbox;
          const scale = devicePixelRatio || 1;
          const ctx = u.ctx;
          ctx.save();
          ctx.strokeStyle = "#15803d";
          ctx.lineWidth = 2 * scale;
          ctx.setLineDash([6 * scale, 4 * scale]);
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, top + height);
          ctx.stroke();
          ctx.restore();
        },
      ],
    },
  };
}

/** A tick at each power of ten in [min, max] (every other one on a narrow plot). */
function decades(min, max, width) {
  const first = Math.ceil(Math.log10(min) - 1e-9);
  const last = Math.floor(Math.log10(max) + 1e-9);
  const step = (last - first + 1) * 42 > width ? 2 : 1;
  const ticks = [];
  for (let e = first; e <= last; e += step) ticks.push(10 ** e);
  return ticks;
}

/** The curve in words, for the chart's text alternative. */
export function curveSummary(curve) {
  const finite = curve.filter((p) => Number.isFinite(p.loss));
  const lowest = finite.reduce((a, p) => (a === null || p.loss < a.loss ? p : a), null);
  return (
    `Loss against learning rate, log scale, ${curve.length} steps from ${number(curve[0]?.learning_rate)} to ${number(curve[curve.length - 1]?.learning_rate)}` +
    (lowest ? `; lowest smoothed loss ${number(lowest.loss)} at rate ${number(lowest.learning_rate)}.` : ".")
  );
}

/** Draw loss against learning rate (log x) into ``box``; returns the uPlot. */
export function drawCurve(box, curve, suggested, width) {
  const xs = curve.map((p) => p.learning_rate);
  const finite = (v) => (Number.isFinite(v) ? v : null);
  const start = curve.map((p) => finite(p.loss)).find((v) => v !== null);
  const options = {
    title: "Loss by learning rate",
    width,
    height: HEIGHT,
    scales: {
      x: { time: false, distr: 3 },
      // Past the suggestion the loss explodes: keep the axis on the part worth reading.
      y: { range: (u, min, max) => [min, Math.max(min + 1e-9, Math.min(max, 2 * (start ?? max)))] },
    },
    axes: [
      {
        label: "learning rate (log)",
        space: 40,
        splits: (u, axis, min, max) => decades(min, max, u.bbox.width / (devicePixelRatio || 1)),
        filter: (u, splits) => splits, // label every tick chosen above
        values: (u, ticks) => ticks.map((t) => (t == null ? "" : `1e${Math.round(Math.log10(t))}`)),
      },
      { size: 56, label: "loss", values: (u, ticks) => ticks.map((v) => (v == null ? "" : String(+v.toPrecision(3)))) },
    ],
    series: [
      { label: "rate", value: (u, v) => (v == null ? "—" : number(v)) },
      { label: "loss (smoothed)", stroke: "#2563eb", width: 2, value: (u, v) => (v == null ? "—" : v.toPrecision(4)) },
      { label: "loss (each step)", stroke: "#94a3b8", width: 1, value: (u, v) => (v == null ? "—" : v.toPrecision(4)) },
    ],
    plugins: [suggestionMark(suggested)],
  };
  return new uPlot(options, [xs, curve.map((p) => finite(p.loss)), curve.map((p) => finite(p.raw_loss))], box);
}

export class LrFinder {
  /** parts: {button, status, progress, figure, summary, use, field}; spec(): the form's spec. */
  constructor({ parts, spec, onProblem, onUse }) {
    this.parts = parts;
    this.spec = spec;
    this.onProblem = onProblem;
    this.onUse = onUse;
    this.plot = null;
    this.running = false;
    parts.button.addEventListener("click", () => this.start());
    parts.use.addEventListener("click", () => this.use());
    this.observer = new ResizeObserver(() => {
      if (this.plot) this.plot.setSize({ width: this.width(), height: HEIGHT });
    });
    this.observer.observe(parts.figure);
  }

  width() {
    return Math.max(200, Math.floor(this.parts.figure.clientWidth || 300));
  }

  async start() {
    if (this.running) return;
    let spec;
    try {
      spec = this.spec();
    } catch (error) {
      this.onProblem(error, "The learning-rate finder needs a complete form:");
      return;
    }
    const { button, status, progress, use } = this.parts;
    this.running = true;
    button.disabled = true;
    use.hidden = true;
    progress.hidden = false;
    status.textContent = "Starting the learning-rate finder…";
    const started = Date.now();
    try {
      let find = await api("v1/lr-find", { method: "POST", body: { spec } });
      this.parts.figure.dataset.findId = find.id;
      while (!["succeeded", "failed", "cancelled"].includes(find.status)) {
        const seconds = Math.round((Date.now() - started) / 1000);
        status.textContent =
          find.status === "queued"
            ? `Waiting for a worker (${seconds} s)…`
            : `Trying rates from ${number(find.min_learning_rate)} to ${number(find.max_learning_rate)} over ${find.steps} steps (${seconds} s)…`;
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        find = await api(`v1/lr-find/${encodeURIComponent(find.id)}`);
      }
      this.show(find);
    } catch (error) {
      if (error instanceof ApiError && error.status === 422) {
        status.textContent = "";
        this.onProblem(error, "The learning-rate finder could not start:");
      } else {
        status.textContent = `The learning-rate finder stopped: ${error.message}`;
      }
    } finally {
      this.running = false;
      button.disabled = false;
      progress.hidden = true;
    }
  }

  show(find) {
    const { status, use, figure, summary } = this.parts;
    if (find.status !== "succeeded") {
      status.textContent = `The learning-rate finder ${find.status}${find.error ? `: ${find.error}` : "."}`;
      return;
    }
    this.suggested = find.suggested_learning_rate;
    const curve = find.curve.filter((p) => p.learning_rate > 0);
    figure.hidden = false; // first, so the plot takes the width it has
    this.draw(curve, this.suggested);
    figure.dataset.points = String(curve.length);
    summary.textContent = curveSummary(curve);
    if (this.suggested) {
      status.textContent = `Suggested learning rate: ${number(this.suggested)}. ${sentence(find.reason || "")}`.trim();
      use.textContent = `Use ${roundRate(this.suggested)}`;
      use.hidden = false;
    } else {
      status.textContent = `No rate to suggest${find.reason ? `: ${find.reason}` : "."}`;
    }
  }

  use() {
    if (!this.suggested) return;
    const rate = roundRate(this.suggested);
    this.onUse(rate);
    this.parts.status.textContent = `Learning rate set to ${rate}.`;
  }

  draw(curve, suggested) {
    this.plot?.destroy();
    this.plot = drawCurve(this.parts.plot, curve, suggested, this.width());
  }
}
