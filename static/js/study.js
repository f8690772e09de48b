// The participant's study page: one task at a time through the participant API.
// Results come blind (no arm, model or score); every action is logged by the server.
(function () {
  "use strict";
  const root = document.getElementById("study");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const views = ["ready-view", "task-view", "questionnaire-view", "sus-view", "done-view", "none-view"];
  const GRADES = JSON.parse(document.getElementById("grade-words").textContent);  // cases.grades
  let task = null;
  let selected = 0;
  let timer = null;

  function show(id) {
    views.forEach((v) => { $(v).hidden = v !== id; });
    $("study-loading").hidden = true;
    $("timer").hidden = id !== "task-view";
  }

  function error(message) {
    const box = $("study-error");
    box.textContent = message || "";
    box.hidden = !message;
  }

  async function api(method, url, body) {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": window.csrfToken(), Accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 204) return { status: 204, data: null };
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) {
      const err = new Error(window.apiErrorMessage(data, `The server answered ${response.status}.`));
      err.status = response.status;
      throw err;
    }
    return { status: response.status, data };
  }

  const taskUrl = (suffix) => `${root.dataset.tasks}${task.task}/${suffix}/`;

  // the tasks done over all the participant's studies, said as such beside "Task 1 of 3" of one study
  function countLine(status) {
    const several = status.next_task_of !== null && status.next_task_of < status.tasks_total;
    return `${status.tasks_done} of ${status.tasks_total} tasks done${several ? " in all your studies" : ""}`;
  }

  let startPressed = false;  // Start moves the focus to the results, also after a 503's retries

  async function loadNext() {
    stopTimer();
    error("");
    $("study-loading").hidden = false;
    views.forEach((v) => { $(v).hidden = true; });
    let result;
    try {
      result = await api("GET", root.dataset.next);
    } catch (e) {
      if (e.status === 503) {
        $("study-loading").textContent = "Preparing the results of your next task…";
        setTimeout(loadNext, 3000);
        return;
      }
      $("study-loading").hidden = true;
      error(e.message);
      return;
    }
    if (result.status === 204) {
      task = null;
      await showFinished();
      return;
    }
    task = result.data;
    $("task-count").textContent = `Task ${task.number} of ${task.of}`;
    if (task.ended) { show("questionnaire-view"); return; }
    renderTask();
    show("task-view");
    startTimer();
    if (startPressed) { startPressed = false; focusHit(selected); }  // Start is hidden now: the keyboard goes to the first result
  }

  // A study's usability questionnaire comes before the tasks of any later study. A task's clock
  // starts with its first GET of tasks/next/, so a task not yet started waits for Start: opening
  // the page to look around is not time spent on the task. One already started resumes.
  async function advance() {
    let status;
    try {
      status = (await api("GET", root.dataset.status)).data;
    } catch (e) {
      $("study-loading").hidden = true;
      error(e.message);
      return;
    }
    $("task-count").textContent = countLine(status);
    if (status.sus_pending) { show("sus-view"); return; }
    if (status.task_in_progress || status.tasks_done >= status.tasks_total) { loadNext(); return; }
    // numbered within its study, as the task itself will say (tasks_total spans all your studies)
    $("ready-heading").textContent = `Task ${status.next_task_number} of ${status.next_task_of}`;
    show("ready-view");
    $("start-button").focus();
  }
  $("start-button").addEventListener("click", () => { startPressed = true; loadNext(); });

  // One click, one answer: a form's button is off while its answer is on its way.
  async function sending(form, send) {
    const button = form.querySelector("button[type=submit]");
    if (button.disabled) return;
    button.disabled = true;
    try { await send(); } finally { button.disabled = false; }
  }

  async function showFinished() {
    try {
      const status = (await api("GET", root.dataset.status)).data;
      if (!status.tasks_total) { show("none-view"); return; }
      $("task-count").textContent = countLine(status);
      show(status.sus_pending ? "sus-view" : "done-view");
    } catch (e) {
      $("study-loading").hidden = true;
      error(e.message);
    }
  }

  function img(url, alt) {
    const image = document.createElement("img");
    image.src = url;
    image.alt = alt;
    image.loading = "lazy";
    return image;
  }

  function renderTask() {
    const queries = $("query-images");
    queries.replaceChildren(...task.query_images.map((url, i) => img(url, `Query drawing ${i + 1}`)));
    $("task-text").hidden = !task.text;
    $("task-text").textContent = task.text ? `Subject: ${task.text}` : "";
    const hits = $("hits");
    hits.replaceChildren(...task.hits.map(renderHit));
    selected = 0;
    focusHit(0, false);
  }

  function renderHit(hit, index) {
    const card = document.createElement("article");
    card.className = "card study-card";
    card.tabIndex = 0;
    card.setAttribute("aria-label", `Result ${hit.rank}, ${hit.patent_id}${hit.figure_label ? " FIG. " + hit.figure_label : ""}`);
    card.dataset.index = index;
    card.dataset.figure = hit.figure_id;
    const rank = document.createElement("span");
    rank.className = "rank";
    rank.textContent = `#${hit.rank}`;
    const picture = img(hit.image_url, `Result ${hit.rank}`);
    picture.addEventListener("click", () => openHit(index));
    const caption = document.createElement("div");
    caption.className = "caption";
    caption.textContent = `${hit.patent_id}${hit.figure_label ? " FIG. " + hit.figure_label : ""}${hit.title ? " · " + hit.title : ""}`;
    card.append(rank, picture, caption, gradeButtons(hit, index));
    card.addEventListener("focus", () => { selected = index; });
    return card;
  }

  function gradeButtons(hit, index) {
    const group = document.createElement("div");
    group.className = "grades";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Grade");
    GRADES.forEach((label, grade) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "grade" + (hit.grade === grade ? " on" : "");
      button.setAttribute("aria-pressed", String(hit.grade === grade));
      button.dataset.grade = grade;
      button.title = `${grade}: ${label}`;
      button.setAttribute("aria-label", `Grade ${grade}: ${label}`);
      button.textContent = grade;
      button.addEventListener("click", (event) => { event.stopPropagation(); grade_(index, grade); });
      group.append(button);
    });
    return group;
  }

  function focusHit(index, focus = true) {
    const cards = $("hits").children;
    if (!cards.length) return;
    selected = Math.max(0, Math.min(cards.length - 1, index));
    Array.from(cards).forEach((c, i) => c.classList.toggle("selected", i === selected));
    if (focus) cards[selected].focus();
  }

  async function grade_(index, grade) {
    const hit = task.hits[index];
    try {
      await api("POST", taskUrl("grades"), { figure_id: hit.figure_id, grade });
      hit.grade = grade;
      document.querySelectorAll(`[data-figure="${hit.figure_id}"] .grade`).forEach((b) => {
        b.classList.toggle("on", Number(b.dataset.grade) === grade);
        b.setAttribute("aria-pressed", String(Number(b.dataset.grade) === grade));
      });
      error("");
    } catch (e) {
      error(e.message);
    }
  }

  function openHit(index) {
    const hit = task.hits[index];
    focusHit(index, false);
    $("viewer-query").replaceChildren(...task.query_images.map((url, i) => img(url, `Query drawing ${i + 1}`)));
    $("viewer-image").src = hit.image_url;
    $("viewer-image").alt = `Result ${hit.rank}`;
    $("viewer-caption").textContent = `#${hit.rank} · ${hit.patent_id}${hit.figure_label ? " FIG. " + hit.figure_label : ""}`;
    $("viewer-grades").replaceChildren(gradeButtons(hit, index));
    $("viewer-grades").firstChild.dataset.figure = hit.figure_id;
    $("viewer").showModal();
    // the dialog would focus its first button, the grade 0 under the drawings, and open scrolled
    // down to it: it opens at the top, the focus on Close (the digits grade, Esc closes)
    $("viewer").scrollTop = 0;
    $("viewer-close").focus({ preventScroll: true });
    api("POST", taskUrl("opened"), { figure_id: hit.figure_id }).catch((e) => error(e.message));
  }

  // A task ends with one click, or with its key pressed twice within 3 s: a task cannot be
  // resumed, so one stray key press must not end it.
  let armed = null;
  function disarm() {
    if (armed) clearTimeout(armed.timer);
    armed = null;
    $("end-confirm").hidden = true;
    $("end-confirm").textContent = "";
  }
  function endByKey(key, found) {
    if (armed && armed.key === key) { endTask(found); return; }
    disarm();
    armed = { key, timer: setTimeout(disarm, 3000) };
    $("end-confirm").textContent = found
      ? "Press f again to finish: you found what you would cite."
      : "Press e again to end this task.";
    $("end-confirm").hidden = false;
  }

  async function endTask(found) {
    disarm();
    if (!task) return;
    stopTimer();
    try {
      await api("POST", taskUrl("end"), { found_citable: found });
      if ($("viewer").open) $("viewer").close();
      $("questionnaire").reset();
      show("questionnaire-view");
      $("questionnaire").querySelector("input").focus();
    } catch (e) {
      error(e.message);
    }
  }

  // A timed task's time is said to a screen reader when it starts and at these many seconds
  // left, not every second (the visible clock is not a live region): warned before it runs out.
  const ANNOUNCE_LEFT = [300, 120, 60, 30, 10];
  const spoken = (s) => s < 60 ? `${s} seconds` : s % 60 ? `${fmt(s)} minutes` : `${s / 60} minute${s === 60 ? "" : "s"}`;

  function startTimer() {
    const box = $("timer");
    const loaded = Date.now();
    const left = task.seconds_left, before = task.seconds_elapsed || 0;  // a reloaded task keeps its time
    const timed = left !== null && left !== undefined;
    const due = timed ? ANNOUNCE_LEFT.filter((s) => s < left) : [];
    if (timed) $("timer-announce").textContent = `${spoken(left)} for this task.`;
    const tick = () => {
      const sinceLoad = Math.floor((Date.now() - loaded) / 1000);
      if (!timed) {
        box.textContent = `${fmt(before + sinceLoad)} elapsed`;
        return;
      }
      const remaining = Math.max(0, left - sinceLoad);
      box.textContent = `${fmt(remaining)} left`;
      box.classList.toggle("low", remaining <= 30);
      let passed = null;  // a page asleep for a while says only the latest mark
      while (due.length && remaining <= due[0]) passed = due.shift();
      if (passed !== null && remaining > 0) $("timer-announce").textContent = `${spoken(passed)} left.`;
      if (remaining === 0) {
        $("timer-announce").textContent = "Time is up: the task has ended.";
        endTask(false);
      }
    };
    box.hidden = false;
    tick();
    timer = setInterval(tick, 1000);
  }

  function stopTimer() {
    if (timer) clearInterval(timer);
    timer = null;
  }

  const fmt = (s) => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;

  $("found-button").addEventListener("click", () => endTask(true));
  $("end-button").addEventListener("click", () => endTask(false));
  $("viewer-close").addEventListener("click", () => $("viewer").close());

  $("questionnaire").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    sending(event.target, async () => {
      try {
        await api("POST", taskUrl("finish"), {
          confidence: Number(form.get("confidence")),
          usefulness: Number(form.get("usefulness")),
          comment: form.get("comment") || "",
        });
      } catch (e) {
        error(e.message);
        return;
      }
      await advance();
    });
  });

  $("sus").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const answers = Array.from({ length: 10 }, (_, i) => Number(form.get(`q${i + 1}`)));
    sending(event.target, async () => {
      try {
        await api("POST", root.dataset.sus, { answers });
      } catch (e) {
        error(e.message);
        return;
      }
      await advance();
    });
  });

  document.addEventListener("keydown", (event) => {
    if ($("task-view").hidden || event.ctrlKey || event.metaKey || event.altKey || !window.shortcutKey(event)) return;
    if (event.target.closest("textarea, input")) return;
    const key = event.key;
    if (key === "?") { $("help").showModal(); event.preventDefault(); return; }
    if (key === "ArrowRight" || key === "j") { focusHit(selected + 1); event.preventDefault(); }
    else if (key === "ArrowLeft" || key === "k") { focusHit(selected - 1); event.preventDefault(); }
    else if (/^[0-3]$/.test(key)) { grade_(selected, Number(key)); event.preventDefault(); }
    else if (key === "Enter") {
      // Enter on a button (a grade, Finish, Start) presses that button; on a card or the page it opens the card
      if (event.target.closest("button, a, summary, select") || $("viewer").open || $("help").open) return;
      openHit(selected); event.preventDefault();
    }
    else if (key === "f" && !$("viewer").open) { endByKey("f", true); return; }
    else if (key === "e" && !$("viewer").open) { endByKey("e", false); return; }
    if (armed && key !== "Shift") disarm();
  });

  advance();
})();
