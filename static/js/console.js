// Admin console: live job progress (polling the API every 2 s while something runs), the
// corpus upload with an upload progress bar (XHR), and the model actions. No build step.
(function () {
  "use strict";
  const POLL_MS = 2000;

  async function api(url, method, body) {
    const options = { method: method || "GET", headers: { Accept: "application/json", "X-CSRFToken": window.csrfToken() } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(url, options);
    const data = response.status === 204 ? {} : await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(window.apiErrorMessage(data, "The server answered " + response.status + "."));
    return data;
  }

  // A form's submit button is disabled while its request runs: one click, one job.
  function busy(form, on) {
    form.querySelectorAll("button[type=submit], button:not([type])").forEach((b) => { b.disabled = on; });
  }

  const running = (state) => state === "queued" || state === "running";
  // the server's own progress line (JobProgress.summary), as the page first showed it
  const counts = (j) => j.summary;
  function paintBar(bar, j) {
    bar.value = j.percent;
    bar.hidden = j.nothing_imported;  // a failed or cancelled ingest imported nothing: no progress to show
  }

  function paintState(el, state) {
    if (el.textContent === state) return;  // a live region: said again only when it changes
    el.textContent = state;
    el.className = "state state-" + state;
  }

  function paintRow(row, j) {
    paintState(row.querySelector("[data-field=state]"), j.state);
    paintBar(row.querySelector("[data-field=bar]"), j);
    row.querySelector("[data-field=counts]").textContent = counts(j);
    const rate = row.querySelector("[data-field=rate]"), eta = row.querySelector("[data-field=eta]");
    if (rate) rate.textContent = j.rate_per_s ? j.rate_per_s.toFixed(1) + "/s" : "";
    if (eta) eta.textContent = j.eta_s ? Math.round(j.eta_s) + " s" : "";
  }

  // keyboard: j jobs, u upload, m models, e evaluation, a users (not while typing)
  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, textarea, select") || event.ctrlKey || event.metaKey || event.altKey) return;
    if (!window.shortcutKey(event)) return;
    const index = { j: 0, u: 1, m: 2, e: 3, a: 4 }[event.key];
    const links = document.querySelectorAll(".console-nav a");
    if (index !== undefined && links[index]) window.location.href = links[index].href;
  });

  // jobs page
  const jobsTable = document.getElementById("jobs");
  if (jobsTable) {
    const poll = async () => {
      try {
        const data = await api(jobsTable.dataset.api);
        let anyRunning = false;
        for (const j of data.results) {
          const row = jobsTable.querySelector("tr[data-job='" + j.id + "']");
          if (row) paintRow(row, j);
          anyRunning = anyRunning || running(j.state);
        }
        document.getElementById("live-note").textContent = anyRunning ? "updated live" : "all finished";
      } catch (err) {
        document.getElementById("live-note").textContent = "live updates paused: " + err.message;
      }
      setTimeout(poll, POLL_MS);
    };
    setTimeout(poll, POLL_MS);
  }

  const describeForm = document.getElementById("describe-form");
  if (describeForm) {
    // the model folder is asked only for the transformers backend
    const folderFields = [describeForm.model_path, document.getElementById("describe-model-path-label")];
    const showFolder = () => folderFields.forEach((el) => { el.hidden = describeForm.backend.value !== "transformers"; });
    describeForm.backend.addEventListener("change", showFolder);
    showFolder();
    describeForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const error = document.getElementById("describe-error");
      error.hidden = true;
      busy(describeForm, true);
      try {
        const body = { backend: describeForm.backend.value, model_path: describeForm.model_path.value.trim() };
        const data = await api(describeForm.dataset.api.replace("/0/", "/" + describeForm.corpus.value + "/"), "POST", body);
        window.location.href = "/console/jobs/" + data.job + "/";
      } catch (err) { error.textContent = err.message; error.hidden = false; busy(describeForm, false); }
    });
  }

  // job page
  const jobPanel = document.getElementById("job");
  if (jobPanel) {
    const error = document.getElementById("job-error");
    const show = (j) => {
      paintState(jobPanel.querySelector("[data-field=state]"), j.state);
      paintBar(jobPanel.querySelector("[data-field=bar]"), j);
      jobPanel.querySelector("[data-field=counts]").textContent = counts(j);
      const backlog = jobPanel.querySelector("[data-field=backlog]");
      if (backlog) backlog.textContent = j.waiting + " waiting for a worker · " + j.lost + " lost (the sweep queues them again)";
      jobPanel.querySelector("[data-field=rate]").textContent = j.rate_per_s ? j.rate_per_s.toFixed(1) + " per s, about " + Math.round(j.eta_s || 0) + " s left" : "—";
      jobPanel.querySelector("[data-field=message]").textContent = j.message || "—";
      const cancel = document.getElementById("cancel-job");
      if (cancel) cancel.hidden = !running(j.state);
      const retry = document.getElementById("retry-job");
      if (retry) retry.hidden = !(j.failed || j.state === "failed" || j.state === "cancelled");
      const again = document.getElementById("upload-again");
      if (again) again.hidden = !(j.state === "failed" || j.state === "cancelled");
    };
    let last = null;
    const poll = async () => {
      try {
        const j = await api(jobPanel.dataset.api);
        show(j);
        // problems appear when a job ends: reload once to render them server-side (the focus kept)
        if (last && running(last) && !running(j.state) && (j.problems.length || j.failed)) window.reloadKeepingPlace();
        last = j.state;
      } catch (err) { /* keep polling */ }
      setTimeout(poll, POLL_MS);
    };
    poll();
    const act = async (url) => {
      error.hidden = true;
      try {
        const j = await api(url, "POST", {});
        show(j);
        last = j.state;
      } catch (err) { error.textContent = err.message; error.hidden = false; }
      // the button pressed may be hidden now (Cancel once cancelled): the keyboard goes to the
      // page's heading, not to the button now offered (Retry after Cancel: a second Enter would
      // undo what the first did); the state's live region says what happened
      if (document.activeElement === document.body || (document.activeElement && document.activeElement.hidden)) {
        document.getElementById("job-heading").focus();
      }
    };
    const cancel = document.getElementById("cancel-job");
    if (cancel) cancel.addEventListener("click", () => act(jobPanel.dataset.cancel));
    const retry = document.getElementById("retry-job");
    if (retry) retry.addEventListener("click", () => act(jobPanel.dataset.retry));
  }

  // upload page
  const uploadForm = document.getElementById("upload-form");
  if (uploadForm) {
    const error = document.getElementById("upload-error");
    const fail = (message) => { error.textContent = message; error.hidden = false; };
    const jobBox = document.getElementById("upload-job");

    const follow = (jobId) => {
      jobBox.hidden = false;
      const url = "/api/v1/jobs/" + jobId + "/";
      const link = document.getElementById("job-link");
      link.href = "/console/jobs/" + jobId + "/";
      link.textContent = "job #" + jobId;
      const poll = async () => {
        let j;
        try { j = await api(url); } catch (err) { setTimeout(poll, POLL_MS); return; }
        paintState(document.getElementById("job-state"), j.state);
        paintBar(document.getElementById("job-bar"), j);
        document.getElementById("job-counts").textContent = counts(j);
        document.getElementById("job-message").textContent = j.message;
        if (running(j.state)) { setTimeout(poll, POLL_MS); return; }
        if (j.problems.length) {
          const box = document.getElementById("job-problems");
          const body = box.querySelector("tbody");
          body.replaceChildren();
          for (const p of j.problems) {
            const tr = document.createElement("tr");
            for (const value of [p.file, p.line === null ? "" : p.line, p.reason]) {
              const td = document.createElement("td");
              td.textContent = value;
              tr.appendChild(td);
            }
            tr.children[1].className = "num";
            body.appendChild(tr);
          }
          document.getElementById("problems-csv").href = url + "problems.csv";
          box.hidden = false;
        }
      };
      poll();
    };

    uploadForm.addEventListener("submit", (event) => {
      event.preventDefault();
      error.hidden = true;
      const file = uploadForm.archive.files[0];
      if (!file) { fail("Choose a .zip file first."); return; }
      if (file.size > Number(uploadForm.dataset.max)) { fail("The file is larger than the upload limit."); return; }
      const xhr = new XMLHttpRequest();
      busy(uploadForm, true);
      xhr.addEventListener("loadend", () => busy(uploadForm, false));
      const bar = document.getElementById("upload-bar"), text = document.getElementById("upload-text");
      const said = document.getElementById("upload-said");  // the live region: at each tenth, not many times a second
      let tenth = -1;
      said.textContent = "";
      document.getElementById("upload-progress").hidden = false;
      xhr.upload.addEventListener("progress", (e) => {
        if (!e.lengthComputable) return;
        const percent = Math.floor((100 * e.loaded) / e.total);
        bar.value = percent;
        text.textContent = percent + " % (" + Math.round(e.loaded / 1048576) + " of " + Math.round(e.total / 1048576) + " MiB)";
        if (Math.floor(percent / 10) !== tenth) { tenth = Math.floor(percent / 10); said.textContent = "Upload " + percent + " %"; }
      });
      xhr.addEventListener("load", () => {
        let data = {};
        try { data = JSON.parse(xhr.responseText); } catch (err) { /* not JSON */ }
        if (xhr.status === 202) { bar.value = 100; text.textContent = "uploaded"; said.textContent = "Uploaded"; follow(data.job); }
        else fail(window.apiErrorMessage(data, "The upload failed (" + xhr.status + ")."));
      });
      xhr.addEventListener("error", () => fail("The upload was interrupted; try again."));
      xhr.open("POST", uploadForm.action);
      xhr.setRequestHeader("X-CSRFToken", window.csrfToken());
      xhr.setRequestHeader("Accept", "application/json");
      xhr.send(new FormData(uploadForm));
    });

    document.getElementById("folder-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      const form = event.target;
      busy(form, true);
      try {
        const data = await api(form.action, "POST", { folder: form.folder.value, name: form.elements["name"].value });
        follow(data.job);
      } catch (err) { fail(err.message); } finally { busy(form, false); }
    });
  }

  // models page
  const models = document.getElementById("models");
  if (models) {
    const error = document.getElementById("model-error");
    const fail = (message) => { error.textContent = message; error.hidden = false; window.scrollTo(0, 0); };
    models.addEventListener("click", async (event) => {
      const button = event.target.closest("button[data-action]");
      if (!button) return;
      const row = button.closest("tr");
      const base = models.dataset.api + row.dataset.model + "/";
      const action = button.dataset.action;
      error.hidden = true;
      try {
        if (action === "delete") {
          if (!window.confirm("Delete " + row.dataset.name + " and all its vectors?")) return;
          await api(base, "DELETE");
        } else if (action === "force") {
          if (!window.confirm("Activate " + row.dataset.name + " before every figure has a vector? Figures without one will not be found.")) return;
          await api(base + "activate/", "POST", { force: true });
        } else {
          await api(base + action + "/", "POST", {});
        }
        window.reloadKeepingPlace();
      } catch (err) { fail(err.message); }
    });
    document.getElementById("register-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = event.target;
      const button = form.querySelector("button");
      button.disabled = true;
      button.textContent = "Loading the model…";
      try {
        await api(form.action, "POST", { checkpoint: form.checkpoint.value, name: form.elements["name"].value });
        window.reloadKeepingPlace(button);
      } catch (err) { fail(err.message); button.disabled = false; button.textContent = "Register and encode the catalogue"; }
    });
    // coverage grows while models encode: refresh the numbers
    const poll = async () => {
      try {
        const list = await api(models.dataset.api);
        for (const m of list) {
          const cell = models.querySelector("tr[data-model='" + m.id + "'] [data-field=coverage]");
          if (cell) {
            cell.textContent = m.coverage.encoded + " / " + m.coverage.total + " (" + m.coverage.percent.toFixed(1) + " %)";
            cell.previousElementSibling.value = m.coverage.percent;
          }
        }
      } catch (err) { /* keep polling */ }
      setTimeout(poll, POLL_MS);
    };
    setTimeout(poll, POLL_MS);
  }

  // evaluation dashboard
  const evalForm = document.getElementById("evaluate-form");
  if (evalForm) {
    const error = document.getElementById("evaluate-error");
    evalForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      const checked = (name) => Array.from(evalForm.querySelectorAll("input[name=" + name + "]:checked")).map((i) => i.value);
      busy(evalForm, true);
      try {
        await api(evalForm.action, "POST", {
          corpus: Number(evalForm.corpus.value), models: checked("models").map(Number), relevance: checked("relevance"),
          exclude_same_patent: evalForm.exclude_same_patent.checked,
        });
        window.reloadKeepingPlace(document.getElementById("evaluate-button"));
      } catch (err) { error.textContent = err.message; error.hidden = false; busy(evalForm, false); }
    });
  }
  // evaluations running: their progress, live; the page reloads (to show the results) once all have ended
  const evalJobs = Array.from(document.querySelectorAll("#evaluations-running li[data-api]"));
  if (evalJobs.length) {
    const poll = async () => {
      let still = 0;
      for (const li of evalJobs) {
        try {
          const j = await api(li.dataset.api);
          paintState(li.querySelector("[data-field=state]"), j.state);
          li.querySelector("[data-field=bar]").value = j.percent;
          li.querySelector("[data-field=counts]").textContent = j.done + " / " + j.total + " queries";
          li.querySelector("[data-field=message]").textContent = j.message || "";
          if (running(j.state)) still += 1;
        } catch (err) { still += 1; /* keep polling */ }
      }
      if (still) setTimeout(poll, POLL_MS);
      else window.reloadKeepingPlace();
    };
    setTimeout(poll, POLL_MS);
  }
  const judgmentsForm = document.getElementById("judgments-form");
  if (judgmentsForm) {
    const error = document.getElementById("judgments-error");
    judgmentsForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      const models = Array.from(judgmentsForm.querySelectorAll("input[name=models]:checked")).map((i) => Number(i.value));
      busy(judgmentsForm, true);
      try {
        await api(judgmentsForm.action, "POST", { qrels: "judgments", models: models });
        window.reloadKeepingPlace(document.getElementById("judgments-button"));
      } catch (err) { error.textContent = err.message; error.hidden = false; busy(judgmentsForm, false); }
    });
  }
})();
