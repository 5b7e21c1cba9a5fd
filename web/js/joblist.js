// The job list: newest first, refreshed every two seconds so statuses change as they happen.
// Each row shows the settings that tell runs apart (data, rows, compact model, optimizer,
// learning rate, batch, epochs) and, for a live job, its epoch progress or place in the queue.
// Only rows whose job changed are redrawn, so a focused link or ticked box stays as it was.
// Sort by a column's header; filter by text and status. Tick jobs to compare their curves.

import { api, el, finishedStatuses, jobLabel, percent, settingsOf, statusBadge, when } from "./api.js";

const REFRESH_MS = 2000;
// [sort key, header]; a header that shows two settings sorts by the second, a number.
const COLUMNS = [
  ["job", "Job"],
  ["status", "Status"],
  ["rows", "Data, rows"],
  ["model", "Model"],
  ["learning rate", "Optimizer, rate"],
  ["batch", "Epochs × batch"],
  ["accuracy", "Val. accuracy"],
  ["submitted", "Submitted"],
];
const NUMERIC = new Set(["rows", "learning rate", "batch", "accuracy"]);

export class JobList {
  constructor(body, compareButton) {
    this.body = body;
    this.table = body.closest("table");
    this.compareButton = compareButton;
    this.selected = new Set();
    this.jobs = [];
    this.live = new Map(); // job id -> "epoch 2 of 5" / "3rd in the queue"
    this.drawn = new Map(); // job id -> the key its row was drawn from
    this.sort = { column: "submitted", descending: true };
    this.filter = { text: "", status: "" };
    compareButton.addEventListener("click", () => {
      location.href = `compare.html?ids=${[...this.selected].join(",")}`;
    });
    this.header();
    document.getElementById("job-filter")?.addEventListener("input", (e) => {
      this.filter.text = e.target.value.trim().toLowerCase();
      this.render();
    });
    document.getElementById("status-filter")?.addEventListener("change", (e) => {
      this.filter.status = e.target.value;
      this.render();
    });
  }

  header() {
    const head = this.table.querySelector("thead");
    const cells = COLUMNS.map(([key, title]) => {
      const sorted = this.sort.column === key;
      return el(
        "th",
        {
          scope: "col",
          class: NUMERIC.has(key) ? "num" : null,
          "aria-sort": sorted ? (this.sort.descending ? "descending" : "ascending") : null,
        },
        el(
          "button",
          {
            type: "button",
            class: "sort",
            onclick: () => {
              this.sort = { column: key, descending: sorted ? !this.sort.descending : false };
              this.header();
              this.render();
              head.querySelector(`[data-sort="${CSS.escape(key)}"]`)?.focus();
            },
            "data-sort": key,
          },
          title,
        ),
      );
    });
    head.replaceChildren(el("tr", {}, el("th", { scope: "col" }, "Compare"), ...cells));
  }

  async start() {
    this.finished = await finishedStatuses();
    await this.refresh();
    setInterval(() => this.refresh(), REFRESH_MS);
  }

  async refresh() {
    if (this.busy) return; // e.g. waiting for an API key: one request at a time, not a pile
    this.busy = true;
    const note = document.getElementById("jobs-note");
    try {
      const page = await api("v1/jobs?limit=50");
      note.textContent =
        page.total > page.items.length ? `showing the newest ${page.items.length} of ${page.total}` : "";
      this.jobs = page.items;
      await this.readLive();
      this.render();
    } catch (error) {
      note.textContent = `Could not load jobs: ${error.message}`;
    } finally {
      this.busy = false;
    }
  }

  /** Epoch progress of running jobs and the queue position of queued ones (conditional reads). */
  async readLive() {
    const live = this.jobs.filter((job) => !this.finished.has(job.status)).slice(0, 10);
    const seen = new Map();
    await Promise.all(
      live.map(async (job) => {
        try {
          if (job.status === "queued") {
            const detail = await api(`v1/jobs/${job.id}`);
            if (detail.queue_position) seen.set(job.id, `${ordinal(detail.queue_position)} in the queue`);
          } else {
            const history = await api(`v1/jobs/${job.id}/history`);
            const done = history.epochs.length ? history.epochs[history.epochs.length - 1].epoch : 0;
            seen.set(job.id, { done, of: job.spec.epochs });
          }
        } catch {
          // the next refresh tries again; the row shows its status meanwhile
        }
      }),
    );
    this.live = seen;
  }

  visible() {
    const { text, status } = this.filter;
    const rows = this.jobs.filter((job) => {
      if (status && job.status !== status) return false;
      if (!text) return true;
      const words = [jobLabel(job), job.id, job.status, ...Object.values(settingsOf(job))].join(" ").toLowerCase();
      return words.includes(text);
    });
    const { column, descending } = this.sort;
    const key = (job) => {
      if (column === "job") return jobLabel(job).toLowerCase();
      if (column === "status") return job.status;
      if (column === "accuracy") return job.final_metrics?.val_accuracy ?? -1;
      if (column === "submitted") return job.created_at;
      const value = settingsOf(job)[column];
      if (column === "rows") return value === "all" ? Infinity : Number(value);
      return NUMERIC.has(column) ? Number.parseFloat(value) || 0 : value;
    };
    rows.sort((a, b) => {
      const [x, y] = [key(a), key(b)];
      const order = x < y ? -1 : x > y ? 1 : 0;
      return descending ? -order : order;
    });
    return rows;
  }

  render() {
    const jobs = this.visible();
    if (!jobs.length) {
      this.drawn.clear();
      const message = this.jobs.length ? "No job matches the filter." : "No jobs yet: submit one with the form.";
      this.body.replaceChildren(el("tr", {}, el("td", { colspan: COLUMNS.length + 1, class: "muted" }, message)));
      return;
    }
    for (const row of [...this.body.children]) {
      if (!row.dataset.job || !jobs.some((job) => job.id === row.dataset.job)) {
        row.remove();
        this.drawn.delete(row.dataset.job);
      }
    }
    let previous = null;
    for (const job of jobs) {
      const key = JSON.stringify([job.status, job.name, job.final_metrics, this.live.get(job.id)]);
      let row = this.body.querySelector(`tr[data-job="${job.id}"]`);
      if (!row || this.drawn.get(job.id) !== key) {
        const fresh = this.row(job);
        if (row) {
          // Update the cells in place: the row and its links and box stay the same elements.
          [...fresh.children].forEach((cell, i) => {
            if (i > 1 && row.children[i].innerHTML !== cell.innerHTML) row.children[i].replaceWith(cell);
          });
          row.children[1].querySelector("a").textContent = jobLabel(job);
        } else {
          row = fresh;
        }
        this.drawn.set(job.id, key);
      }
      const want = previous ? previous.nextSibling : this.body.firstChild;
      if (row !== want) this.body.insertBefore(row, want);
      previous = row;
    }
    this.compareButton.disabled = this.selected.size < 1;
  }

  progress(job) {
    const live = this.live.get(job.id);
    if (!live) return null;
    if (typeof live === "string") return el("span", { class: "live" }, live);
    return el(
      "span",
      { class: "live" },
      el("progress", { max: String(live.of), value: String(live.done), "aria-label": `${jobLabel(job)} epochs done` }),
      ` epoch ${live.done} of ${live.of}`,
    );
  }

  row(job) {
    const id = `pick-${job.id}`;
    const pick = el("input", {
      type: "checkbox",
      id,
      checked: this.selected.has(job.id),
      onchange: (e) => {
        if (e.target.checked) this.selected.add(job.id);
        else this.selected.delete(job.id);
        this.compareButton.disabled = this.selected.size < 1;
      },
    });
    const settings = settingsOf(job);
    return el(
      "tr",
      { "data-job": job.id },
      el("td", {}, pick, el("label", { for: id, class: "sr-only" }, `Compare ${jobLabel(job)}`)),
      el(
        "td",
        {},
        el("a", { href: `job.html?id=${job.id}`, id: `link-${job.id}` }, jobLabel(job)),
        job.kind === "lr_find" ? el("span", { class: "live" }, "learning-rate finder") : null,
      ),
      el("td", {}, statusBadge(job.status), this.progress(job)),
      el("td", {}, `${settings.data}, ${settings.rows === "all" ? "all rows" : `${settings.rows} rows`}`),
      el("td", {}, settings.model),
      el("td", {}, `${settings.optimizer} ${settings["learning rate"]}`),
      el("td", { class: "num" }, `${settings.epochs} × ${settings.batch}`),
      el("td", { class: "num" }, percent(job.final_metrics?.val_accuracy)),
      el("td", { class: "muted" }, when(job.created_at)),
    );
  }
}

function ordinal(n) {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? "th" : { 1: "st", 2: "nd", 3: "rd" }[n % 10] || "th";
  return `${n}${suffix}`;
}
