// Where the model is wrong (GET v1/jobs/{id}/evaluation): the confusion matrix as a heatmap
// that is a real table (the counts are in the cells, the colour only repeats them), the
// accuracy of each class (its recall), precision/recall/F1 per class, and the inputs the model
// got wrong most confidently. A regression job gets its residuals instead.
//
// The images are fetched with the API key (an <img src> cannot send it) and shown from blob
// URLs, which are revoked when the gallery is replaced.

import { ApiError, el, number, percent, request } from "./api.js";

const DIAGONAL = [30, 64, 175]; // #1e40af: right answers
const WRONG = [185, 28, 28]; // #b91c1c: confusions
const INK = [0, 0, 0]; // black: with white, one of the two reads at 4.58:1 or more on any background
const PAPER = [255, 255, 255];
const PARALLEL = 6; // images fetched at once

function luminance(rgb) {
  const [r, g, b] = rgb.map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a, b) {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

const css = (rgb) => `rgb(${rgb.map(Math.round).join(", ")})`;

/** A cell's background for a share of its row (0..1), and the text colour that reads on it. */
export function cellColours(share, diagonal) {
  const t = Math.sqrt(Math.max(0, Math.min(1, share))); // small confusions stay visible
  const full = diagonal ? DIAGONAL : WRONG;
  const background = PAPER.map((p, i) => p + (full[i] - p) * t);
  // Whichever of ink and paper contrasts more: at least 4.5:1 on any background.
  const text = contrast(INK, background) >= contrast(PAPER, background) ? INK : PAPER;
  return { background: css(background), color: css(text) };
}

/** The "image" URL the API gives ("/v1/jobs/…png"), relative, as every request the page makes. */
function relative(url) {
  return url.replace(/^\//, "");
}

export class EvaluationView {
  constructor({ part, note, about, confusion, perClass, galleryPart, gallery, galleryNote, residuals }) {
    Object.assign(this, { part, note, about, confusion, perClass, galleryPart, gallery, galleryNote, residuals });
    this.urls = [];
    this.shown = null; // the job id shown, so a finished job's evaluation is read once
  }

  /** Read and show the evaluation of a finished job; a 404 (none) leaves a short note. */
  async load(jobId, { tries = 3 } = {}) {
    if (this.shown === jobId) return;
    this.shown = jobId;
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await request(`v1/jobs/${encodeURIComponent(jobId)}/evaluation`, {
          headers: { accept: "application/json" },
        });
        const body = await response.json().catch(() => ({}));
        if (response.ok) return this.show(body);
        if (response.status !== 404) throw new ApiError(response.status, body);
        // The worker writes the evaluation as the job ends: a moment late is not "none".
        if (attempt >= tries) return this.none(body);
      } catch (error) {
        if (attempt >= tries) {
          this.part.hidden = false;
          this.note.textContent = `Could not read where the model is wrong: ${error.message}`;
          this.shown = null; // a later refresh tries again
          return;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 1500));
    }
  }

  none(problem) {
    this.part.hidden = false;
    this.clear();
    this.note.textContent =
      "No evaluation for this job: it is made for a job that trained to its end (not one cancelled or stopped by its time limit).";
    this.part.dataset.state = "none";
    if (problem?.detail) this.note.title = problem.detail;
  }

  clear() {
    for (const url of this.urls) URL.revokeObjectURL(url);
    this.urls = [];
    this.galleryPart.hidden = true;
    for (const node of [this.about, this.confusion, this.perClass, this.gallery, this.galleryNote, this.residuals]) {
      node.replaceChildren();
    }
  }

  show(evaluation) {
    this.clear();
    this.part.hidden = false;
    this.note.textContent = "";
    this.part.dataset.state = "shown";
    const rows = evaluation.split === "test" ? "held-out test rows" : "validation rows";
    this.about.textContent =
      `Measured on ${evaluation.rows} ${rows} with the weights of epoch ${evaluation.epoch}` +
      (evaluation.accuracy !== null && evaluation.accuracy !== undefined ? `: accuracy ${percent(evaluation.accuracy)}.` : ".");
    if (evaluation.confusion) this.showConfusion(evaluation);
    if (evaluation.per_class) this.showPerClass(evaluation.per_class);
    if (evaluation.residuals) this.showResiduals(evaluation.residuals);
    this.showGallery(evaluation.misclassified || [], evaluation.task);
  }

  showConfusion({ confusion, class_names: names }) {
    const label = (i) => names[i] ?? String(i);
    const head = el(
      "tr",
      {},
      el("th", { scope: "col", class: "corner" }, "True ↓ / predicted →"),
      confusion.map((_, j) => el("th", { scope: "col", class: "num" }, label(j))),
      el("th", { scope: "col", class: "num recall" }, "Accuracy (recall)"),
    );
    const body = confusion.map((row, i) => {
      const total = row.reduce((a, b) => a + b, 0);
      const cells = row.map((count, j) => {
        const share = total ? count / total : 0;
        const { background, color } = cellColours(share, i === j);
        const what = i === j ? "right" : `read as ${label(j)}`;
        return el(
          "td",
          {
            class: `num cell${i === j ? " diagonal" : ""}`,
            style: `background: ${background}; color: ${color}`,
            title: `True ${label(i)}, ${what}: ${count} of ${total} (${percent(share)})`,
          },
          String(count),
        );
      });
      const recall = total ? row[i] / total : null;
      return el(
        "tr",
        {},
        el("th", { scope: "row", class: "num" }, label(i)),
        cells,
        el("td", { class: "num recall", "data-class": label(i) }, percent(recall)),
      );
    });
    this.confusion.replaceChildren(
      el(
        "p",
        { id: "confusion-about", class: "hint" },
        "Each row is a true class, each column what the model answered: the diagonal (blue) counts right answers, ",
        "red cells the confusions, darker for a larger share of the row. The last column is each class's accuracy (its recall).",
      ),
      el(
        "div",
        { class: "table-wrap heatmap-wrap", tabindex: "0", role: "region", "aria-label": "Confusion matrix" },
        el(
          "table",
          { class: "heatmap", id: "confusion-table", "aria-describedby": "confusion-about" },
          el("caption", {}, "Confusion matrix"),
          el("thead", {}, head),
          el("tbody", {}, body),
        ),
      ),
    );
  }

  showPerClass(perClass) {
    this.perClass.replaceChildren(
      el(
        "details",
        {},
        el("summary", {}, "Precision, recall and F1 of each class"),
        el(
          "div",
          { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Per-class scores" },
          el(
            "table",
            { class: "per-class" },
            el(
              "thead",
              {},
              el(
                "tr",
                {},
                el("th", { scope: "col" }, "Class"),
                ["Precision", "Recall", "F1", "Rows"].map((h) => el("th", { scope: "col", class: "num" }, h)),
              ),
            ),
            el(
              "tbody",
              {},
              perClass.map((c) =>
                el(
                  "tr",
                  {},
                  el("th", { scope: "row" }, c.class),
                  [percent(c.precision), percent(c.recall), number(c.f1, 3), String(c.support)].map((v) =>
                    el("td", { class: "num" }, v),
                  ),
                ),
              ),
            ),
          ),
        ),
      ),
    );
  }

  showResiduals(r) {
    const facts = [
      ["Rows", String(r.count)],
      ["Mean error", number(r.mean)],
      ["Standard deviation", number(r.std)],
      ["Mean absolute error", number(r.mae)],
      ["Root mean squared error", number(r.rmse)],
      ["Median absolute error", number(r.p50_abs)],
      ["90th percentile absolute error", number(r.p90_abs)],
      ["Largest absolute error", number(r.max_abs)],
    ];
    this.residuals.replaceChildren(
      el("h3", {}, "Residuals (prediction − target)"),
      el("dl", { class: "facts" }, facts.flatMap(([t, v]) => [el("dt", {}, t), el("dd", {}, v)])),
    );
  }

  showGallery(items, task) {
    this.galleryPart.hidden = task === "regression";
    if (task === "regression") return;
    if (!items.length) {
      this.galleryNote.textContent = "No misclassified rows: the model answered every one right.";
      return;
    }
    this.galleryNote.textContent = `The ${items.length} inputs the model got wrong most confidently, most confident first.`;
    const figures = items.map((item) => {
      const text = `true ${item.true}, predicted ${item.predicted}`;
      const img = el("img", {
        alt: `Input read as ${item.predicted}, truly ${item.true} (${percent(item.confidence)} confident)`,
        width: "84",
        height: "84",
        "data-index": String(item.index),
      });
      const figure = el(
        "li",
        {},
        el(
          "figure",
          {},
          item.image ? img : el("span", { class: "no-image" }, "no image"),
          el("figcaption", {}, text, el("br"), `confidence ${percent(item.confidence)}`),
        ),
      );
      return { item, img, figure };
    });
    this.gallery.replaceChildren(...figures.map((f) => f.figure));
    const queue = figures.filter((f) => f.item.image);
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        try {
          const response = await request(relative(next.item.image), { headers: { accept: "image/png" } });
          if (!response.ok) throw new Error(`the server answered ${response.status}`);
          const url = URL.createObjectURL(await response.blob());
          this.urls.push(url);
          next.img.src = url;
        } catch (error) {
          next.img.alt = `${next.img.alt}; the image did not load (${error.message})`;
        }
      }
    };
    return Promise.all(Array.from({ length: PARALLEL }, worker));
  }
}
