// The job list: newest first, refreshed every two seconds so statuses change as they happen.
// Tick jobs to overlay their curves on the compare page.

import { api, describeModel, el, jobLabel, percent, statusBadge, when } from "./api.js";

const REFRESH_MS = 2000;

export class JobList {
  constructor(body, compareButton) {
    this.body = body;
    this.compareButton = compareButton;
    this.selected = new Set();
    compareButton.addEventListener("click", () => {
      location.href = `compare.html?ids=${[...this.selected].join(",")}`;
    });
  }

  async start() {
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
        page.total > page.items.length ? `showing ${page.items.length} of ${page.total}` : "";
      this.render(page.items);
    } catch (error) {
      note.textContent = `Could not load jobs: ${error.message}`;
    } finally {
      this.busy = false;
    }
  }

  render(jobs) {
    if (!jobs.length) {
      this.body.replaceChildren(
        el("tr", {}, el("td", { colspan: 7, class: "muted" }, "No jobs yet: submit one with the form.")),
      );
      return;
    }
    const focused = document.activeElement?.id;
    this.body.replaceChildren(...jobs.map((job) => this.row(job)));
    if (focused) document.getElementById(focused)?.focus();
    this.compareButton.disabled = this.selected.size < 1;
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
    return el(
      "tr",
      { "data-job": job.id },
      el("td", {}, pick, el("label", { for: id, class: "sr-only" }, `Compare ${jobLabel(job)}`)),
      el("td", {}, el("a", { href: `job.html?id=${job.id}` }, jobLabel(job))),
      el("td", {}, statusBadge(job.status)),
      el("td", {}, job.spec.dataset.name),
      el("td", { class: "muted" }, describeModel(job.spec)),
      el("td", { class: "num" }, percent(job.final_metrics?.val_accuracy)),
      el("td", { class: "muted" }, when(job.created_at)),
    );
  }
}
