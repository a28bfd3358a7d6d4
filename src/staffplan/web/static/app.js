// staffplan serve: a few lines of plain JavaScript; every page also works without it.
"use strict";

function pollJob(box) {
  // Sick call in progress: follow /api/jobs/<id> and reload the page when it is done.
  const id = box.dataset.job;
  const bar = document.getElementById("job-progress");
  const elapsed = document.getElementById("job-elapsed");
  const tick = async () => {
    try {
      const r = await fetch("/api/jobs/" + encodeURIComponent(id), { credentials: "same-origin" });
      if (!r.ok) { return; }
      const p = await r.json();
      if (bar) { bar.value = Math.min(p.elapsed_s, p.time_limit_s); }
      if (elapsed) { elapsed.textContent = p.elapsed_s.toFixed(1); }
      if (p.state === "done" || p.state === "failed" || p.state !== box.dataset.state) {
        window.location.reload();
        return;
      }
    } catch (e) { /* the next tick tries again */ }
    window.setTimeout(tick, 400);
  };
  window.setTimeout(tick, 300);
}

function pollComparison(box) {
  // Scenario comparison in progress: follow /api/compare/<id>, reload when it ends or moves on.
  const id = box.dataset.job;
  const bar = document.getElementById("cjob-progress");
  const line = document.getElementById("cjob-line");
  const elapsed = document.getElementById("cjob-elapsed");
  let done = bar ? Number(bar.value) : 0;
  const tick = async () => {
    try {
      const r = await fetch("/api/compare/" + encodeURIComponent(id), { credentials: "same-origin" });
      if (!r.ok) { return; }
      const p = await r.json();
      if (line) { line.textContent = p.line; }
      if (elapsed) { elapsed.textContent = p.elapsed_s.toFixed(1); }
      if (p.state === "done" || p.state === "failed" || p.done !== done) {
        window.location.reload();
        return;
      }
      done = p.done;
    } catch (e) { /* the next tick tries again */ }
    window.setTimeout(tick, 500);
  };
  window.setTimeout(tick, 300);
}

function editForm(form) {
  // Edit: keep the start times of the chosen shift, and show violations and KPIs on each change.
  const template = form.querySelector("#template");
  const start = form.querySelector("#start");
  const preview = document.getElementById("preview");
  const filterStarts = () => {
    let first = null;
    for (const o of start.options) {
      const fits = o.dataset.template === template.value;
      o.hidden = !fits;
      o.disabled = !fits;
      if (fits && first === null) { first = o; }
    }
    if (start.selectedOptions.length === 0 || start.selectedOptions[0].disabled) {
      if (first) { first.selected = true; }
    }
  };
  let seq = 0;
  const refresh = async () => {
    const mine = ++seq;
    const data = new URLSearchParams(new FormData(form));
    const r = await fetch(form.dataset.preview, { method: "POST", body: data,
      credentials: "same-origin" });
    const html = await r.text();
    if (mine === seq) { preview.innerHTML = html; preview.dataset.seq = String(mine); }
  };
  template.addEventListener("change", filterStarts);
  filterStarts();
  form.addEventListener("change", (e) => {
    if (["author", "note", "force"].includes(e.target.name)) { return; }
    refresh();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  for (const s of document.querySelectorAll("select.autosubmit")) {
    s.addEventListener("change", () => s.form.submit());
  }
  const job = document.getElementById("job");
  if (job && ["queued", "waiting", "solving"].includes(job.dataset.state)) { pollJob(job); }
  const cjob = document.getElementById("cjob");
  if (cjob && ["queued", "running"].includes(cjob.dataset.state)) { pollComparison(cjob); }
  const form = document.getElementById("edit-form");
  if (form) { editForm(form); }
});
