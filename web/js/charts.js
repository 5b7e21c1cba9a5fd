// Learning curves on uPlot (vendored under vendor/uplot, loaded as the global `uPlot`).
// Epoch 0 — the untrained model — is always the first point, so each curve starts where
// training starts. The best epoch is a dashed green line; overfitting is a shaded red band.

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

/** Where the epoch axis ends: the planned epochs, unless so many that the curve would be a
 * sliver; then a little past the last epoch, so the curve grows into the space. */
export function axisEnd(lastEpoch, plannedEpochs) {
  return Math.min(plannedEpochs, Math.max(10, Math.ceil((lastEpoch + 1) * 1.5)));
}

function markers(chart) {
  return {
    hooks: {
      draw: [
        (u) => {
          const { best, overfittingSince } = chart.marks;
          const ctx = u.ctx;
          const { left, top, width, height } = u.bbox;
          const scale = devicePixelRatio || 1;
          ctx.save();
          ctx.font = `${12 * scale}px system-ui, sans-serif`;
          ctx.textAlign = "left"; // uPlot leaves its axis labels' alignment behind
          ctx.textBaseline = "alphabetic";
          if (overfittingSince !== null && overfittingSince !== undefined) {
            const x = Math.max(left, u.valToPos(overfittingSince, "x", true));
            ctx.fillStyle = "rgba(220, 38, 38, 0.10)";
            ctx.fillRect(x, top, left + width - x, height);
            ctx.fillStyle = "#b91c1c";
            const label = "overfitting";
            const room = left + width - ctx.measureText(label).width - 4 * scale;
            ctx.fillText(label, Math.min(x + 4 * scale, room), top + 14 * scale);
          }
          if (best !== null && best !== undefined) {
            const x = u.valToPos(best, "x", true);
            ctx.strokeStyle = "#15803d";
            ctx.fillStyle = "#15803d";
            ctx.lineWidth = 2 * scale;
            ctx.setLineDash([6 * scale, 4 * scale]);
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + height);
            ctx.stroke();
            ctx.fillText(`best ${best}`, x + 4 * scale, top + height - 6 * scale);
          }
          ctx.restore();
        },
      ],
    },
  };
}

/**
 * One chart: x is the epoch, each series a line.
 * series: [{label, stroke, dash}]; percent: values are fractions shown as %.
 */
export class Chart {
  constructor(container, { title, series, percent = false }) {
    this.container = container;
    this.title = title;
    this.percent = percent;
    this.marks = { best: null, overfittingSince: null };
    this.xMax = 1;
    this.points = 0;
    const format = (v) =>
      v === null || v === undefined ? "—" : percent ? `${(v * 100).toFixed(1)}%` : v.toPrecision(4);
    const options = {
      title,
      width: this.width(),
      height: HEIGHT,
      scales: {
        x: { time: false, range: (u, min, max) => [0, Math.max(this.xMax, max ?? 0, 1)] },
        y: { range: (u, min, max) => (percent ? [0, 1] : [0, max > 0 ? max * 1.08 : 1]) },
      },
      axes: [
        {
          label: "epoch",
          incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500],
          values: (u, ticks) => ticks.map(String),
        },
        {
          values: (u, ticks) =>
            ticks.map((v) => (percent ? `${Math.round(v * 100)}%` : String(+v.toPrecision(3)))),
        },
      ],
      series: [
        { label: "epoch", value: (u, v) => (v === null ? "—" : String(v)) },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.stroke,
          width: 2,
          dash: s.dash,
          spanGaps: true,
          points: { show: true, size: 6 },
          value: (u, v) => format(v),
        })),
      ],
      legend: { live: false },
      plugins: [markers(this)],
    };
    this.plot = new uPlot(options, [[], ...series.map(() => [])], container);
    this.observer = new ResizeObserver(() => this.plot.setSize({ width: this.width(), height: HEIGHT }));
    this.observer.observe(container);
  }

  width() {
    return Math.max(280, this.container.clientWidth || 600);
  }

  /** xs: epochs; ys: one array per series, aligned with xs (null where unknown). */
  set(xs, ys, { xMax = 1, best = null, overfittingSince = null } = {}) {
    this.xMax = xMax;
    this.marks = { best, overfittingSince };
    this.points = xs.length;
    this.plot.setData([xs, ...ys]);
    this.container.dataset.points = String(xs.length);
  }

  destroy() {
    this.observer.disconnect();
    this.plot.destroy();
  }
}
