// Search page of a case, and a patent's page within a case: review hits (or a patent's figures)
// by keyboard or mouse. Grades, categories and notes are saved through the API
// (PUT /api/v1/cases/{id}/judgments/{figure}/) as they are set; the compare view zooms and pans
// the query drawing(s) and the hit together. A patent page has no search of its own (the
// judgment keeps the search that showed the figure, if any), nor more-like-this or refine.
(function () {
  "use strict";
  const head = document.getElementById("search-head");
  const cards = Array.from(document.querySelectorAll(".judge-card"));
  const closed = head.dataset.closed === "1";
  const errorBox = document.getElementById("judge-error");
  const judgeStatus = document.getElementById("judge-status");
  const compare = document.getElementById("compare");
  const noteDialog = document.getElementById("note-dialog");
  const help = document.getElementById("help");
  const compareButtons = document.getElementById("compare-buttons");  // none on a closed case
  let current = -1;

  function paint(card) {
    const grade = card.dataset.grade, category = card.dataset.category, note = card.dataset.note;
    card.querySelector(".grade").textContent = grade === "" ? "" : "G" + grade;
    card.querySelector(".grade").dataset.value = grade;
    const cat = card.querySelector(".judgment .cat");
    cat.textContent = category;
    cat.className = "cat" + (category ? " cat-" + category : "");
    card.querySelector(".note-mark").hidden = !note;
    card.querySelector(".note-mark").title = note;
    card.classList.toggle("judged", grade !== "" || category !== "");
    const said = judgmentWords(card);  // what the G3 / X marks show, in words for a screen reader
    card.querySelector(".judgment-words").textContent = (said.length ? said.join(", ") : "not judged") + (note ? ", with a note" : "");
    markButtons(card, grade, category);
    if (compare.open && card === cards[current]) paintCompare();
    countShown();
  }

  // The grade and category buttons (templates/cases/_judge_buttons.html) of a card or of the
  // compare view: those of the hit's judgment are on.
  function markButtons(box, grade, category) {
    box.querySelectorAll("button[data-grade]").forEach((b) => {
      b.classList.toggle("on", b.dataset.grade === grade);
      b.setAttribute("aria-pressed", String(b.dataset.grade === grade));
    });
    box.querySelectorAll("button[data-category]").forEach((b) => {
      b.classList.toggle("on", b.dataset.category === category);
      b.setAttribute("aria-pressed", String(b.dataset.category === category));
    });
  }

  // The compare view shows the judgment of the hit it shows: grades and categories set there by key.
  const GRADE_WORDS = JSON.parse(document.getElementById("grade-words").textContent);  // cases.grades
  function judgmentWords(card) {
    const grade = card.dataset.grade, category = card.dataset.category;
    const parts = [];
    if (grade !== "") parts.push("grade " + grade + " (" + GRADE_WORDS[parseInt(grade, 10)] + ")");
    if (category) parts.push("category " + category);
    return parts;
  }
  function paintCompare() {
    const card = cards[current], out = document.getElementById("compare-judgment");
    if (!card || !out) return;
    const grade = card.dataset.grade, category = card.dataset.category;
    const parts = judgmentWords(card);
    out.textContent = parts.length ? parts.join(" · ") : "not judged yet";
    out.classList.toggle("judged", parts.length > 0);
    if (compareButtons) markButtons(compareButtons, grade, category);
  }

  // One request at a time per card, in the order the keys were pressed: a grade and a category
  // typed in quick succession must not have their answers arrive (and be painted) out of order.
  // `values` may be a function of the card, read when its turn comes: a toggle pressed twice
  // quickly toggles twice, from what the first press saved.
  const pending = new WeakMap();
  function judge(card, values) {
    const next = (pending.get(card) || Promise.resolve()).then(() => send(card, values));
    pending.set(card, next.catch(() => {}));
    return next;
  }

  async function send(card, values) {
    if (closed) { showError("The case is closed; reopen it to judge."); return; }
    if (typeof values === "function") values = values(card);
    const url = head.dataset.judgeUrl.replace(/\/0\/$/, "/" + card.dataset.figure + "/");
    card.classList.add("saving");
    try {
      const response = await fetch(url, {
        method: "PUT", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": window.csrfToken(), Accept: "application/json" },
        body: JSON.stringify(head.dataset.search ? { ...values, search: parseInt(head.dataset.search, 10) } : values),
      });
      const body = await response.json();
      if (!response.ok) { showError(window.apiErrorMessage(body, "Could not save the judgment.")); return; }
      card.dataset.grade = body.grade === null ? "" : String(body.grade);
      card.dataset.category = body.category;
      card.dataset.note = body.note;
      paint(card);
      errorBox.hidden = true;
      // said to a screen reader: the buttons' state alone changes silently (the compare view says
      // it in its own line; a saved note is said by the card the focus returns to); the card's
      // words, as paint() just wrote them
      if (!compare.open && !("note" in values)) {
        judgeStatus.textContent = `${card.getAttribute("aria-label")}: ${card.querySelector(".judgment-words").textContent}`;
      }
    } catch (err) {
      showError("Could not save the judgment: " + err.message);
    } finally {
      card.classList.remove("saving");
    }
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
    const inCompare = document.getElementById("compare-error");  // the page's own box is under the dialog
    if (inCompare && compare.open) { inCompare.textContent = message; inCompare.hidden = false; }
  }

  function focus(index) {
    if (!cards.length) return;
    current = Math.max(0, Math.min(cards.length - 1, index));
    cards[current].focus({ preventScroll: true });
    cards[current].scrollIntoView({ block: "nearest" });
    if (compare.open) showInCompare();
  }

  // ---- which hits are shown (search page: all, not judged, new) ----
  // The arrows, Home/End and the compare view's steps go over the shown hits only. A hit judged
  // while "not judged" is chosen stays until the next choice, so it does not vanish under the
  // examiner's eyes.
  const filterBar = document.getElementById("review-filter");
  const filterEmpty = document.getElementById("filter-empty");
  let filter = "all";
  const judged = (card) => card.dataset.grade !== "" || card.dataset.category !== "";
  const FILTERS = { all: () => true, unjudged: (card) => !judged(card), new: (card) => card.classList.contains("is-new") };
  function countShown() {
    if (!filterBar) return;
    const out = filterBar.querySelector("[data-count=unjudged]");
    if (out) out.textContent = String(cards.filter((card) => !judged(card)).length);
  }
  function applyFilter(name) {
    if (!filterBar || !FILTERS[name]) return;
    filter = name;
    cards.forEach((card) => { card.hidden = !FILTERS[name](card); });
    document.querySelectorAll(".patent-group").forEach((group) => {
      group.hidden = !group.querySelector(".judge-card:not([hidden])");
    });
    filterBar.querySelectorAll("button[data-filter]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.filter === name)));
    const shown = cards.filter((card) => !card.hidden).length;
    if (filterEmpty) filterEmpty.hidden = shown > 0;
    judgeStatus.textContent = `Showing ${shown} of ${cards.length} hits`;
    if (current >= 0 && cards[current].hidden) { const at = current; current = -1; step(1, at - 1) || step(-1, at + 1); }
  }
  // The next shown hit after (dir 1) or before (dir -1) `from` (the current one by default);
  // false where there is none.
  function step(dir, from) {
    if (from === undefined && current < 0) { from = -1; dir = 1; }  // no hit chosen yet: the first shown one
    for (let i = (from === undefined ? current : from) + dir; i >= 0 && i < cards.length; i += dir) {
      if (!cards[i].hidden) { focus(i); return true; }
    }
    return false;
  }
  function edge(dir) { step(dir, dir > 0 ? -1 : cards.length); }
  document.querySelectorAll("[data-filter]").forEach((b) => b.addEventListener("click", () => applyFilter(b.dataset.filter)));

  // ---- compare: synchronised zoom and pan ----
  const panes = Array.from(compare.querySelectorAll(".pane img"));
  const view = { scale: 1, x: 0, y: 0 };
  function applyView() {
    panes.forEach((img) => { img.style.transform = `translate(${view.x}px, ${view.y}px) scale(${view.scale})`; });
  }
  function zoom(factor) {
    view.scale = Math.min(20, Math.max(0.5, view.scale * factor));
    applyView();
  }
  function resetView() { view.scale = 1; view.x = 0; view.y = 0; applyView(); }
  let compared = -1;  // the hit the compare view shows: the current one again once it closes
  function showInCompare() {
    compared = current;
    const card = cards[current];
    document.getElementById("compare-hit").src = card.dataset.full;
    document.getElementById("compare-caption").textContent = card.dataset.caption;
    document.getElementById("compare-error").hidden = true;
    keepButton.setAttribute("aria-pressed", String(kept === current));
    paintCompare();
  }
  // "Keep beside": the hit shown stays in a pane of its own while the arrows go through the
  // others, so two references are seen side by side with the query (a Y citation's combination).
  const keepButton = document.getElementById("keep-button");
  let kept = -1;
  function keep() {
    if (current < 0) return;
    kept = kept === current ? -1 : current;
    const pane = document.getElementById("kept-pane");
    pane.hidden = kept < 0;
    if (kept >= 0) {
      document.getElementById("kept-hit").src = cards[kept].dataset.full;
      document.getElementById("kept-label").textContent = "kept: " + cards[kept].dataset.caption;
    }
    keepButton.setAttribute("aria-pressed", String(kept === current));
  }
  keepButton.addEventListener("click", keep);
  function openCompare() {
    if (current < 0) edge(1);
    if (current < 0) return;
    showInCompare();
    resetView();
    // the focus on the close button, as before the view had buttons of its own: Enter or Space there closes it
    if (!compare.open) { compare.showModal(); compare.querySelector(".compare-bar .close").focus(); }
  }
  // Closing the dialog gives the focus back to the card it was opened from (and that card's focus
  // event makes it current); the hit reached with the arrows in the dialog stays the current one.
  compare.addEventListener("close", () => { if (compared >= 0) focus(compared); });
  // the previous and next hit by touch, as ← → do by key
  compare.querySelectorAll("[data-step]").forEach((b) => b.addEventListener("click", () => step(Number(b.dataset.step))));
  compare.querySelectorAll("[data-zoom]").forEach((b) => b.addEventListener("click", () => {
    if (b.dataset.zoom === "reset") resetView(); else zoom(Number(b.dataset.zoom));
  }));
  compare.addEventListener("wheel", (e) => { e.preventDefault(); zoom(e.deltaY < 0 ? 1.15 : 1 / 1.15); }, { passive: false });
  let drag = null;
  compare.querySelectorAll(".pane").forEach((pane) => {
    pane.addEventListener("pointerdown", (e) => { drag = { x: e.clientX - view.x, y: e.clientY - view.y }; pane.setPointerCapture(e.pointerId); });
    pane.addEventListener("pointermove", (e) => { if (drag) { view.x = e.clientX - drag.x; view.y = e.clientY - drag.y; applyView(); } });
    pane.addEventListener("pointerup", () => { drag = null; });
  });

  // ---- note ----
  function openNote() {
    if (current < 0) return;
    const card = cards[current];
    document.getElementById("note-target").textContent = card.dataset.caption;
    document.getElementById("note-text").value = card.dataset.note;
    noteDialog.showModal();
    document.getElementById("note-text").focus();
  }
  document.getElementById("note-form").addEventListener("submit", () => {
    if (closed) return;  // read-only: the dialog only shows the note
    const card = cards[current];
    judge(card, { note: document.getElementById("note-text").value }).then(() => card.focus());
  });
  document.getElementById("note-text").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && !closed) { e.preventDefault(); document.getElementById("note-form").requestSubmit(); noteDialog.close(); }
  });

  // Re-run, refine and more-like-this run a search on the server: show that it is working.
  const busy = document.createElement("p");
  busy.className = "progress";
  busy.hidden = true;
  head.querySelector(".search-facts").appendChild(busy);
  function run(form, what) {
    if (!form || form.dataset.sent) return;
    form.dataset.sent = "1";
    head.querySelectorAll(".actions button").forEach((b) => { b.disabled = true; });
    busy.textContent = what + "…";
    busy.hidden = false;
    form.submit();
  }
  head.querySelectorAll(".actions form").forEach((form) => form.addEventListener("submit", (e) => {
    e.preventDefault();
    run(form, form.id === "refine-form" ? "Refining with the case's judgments" : "Searching again");
  }));

  function moreLikeThis() {
    if (current < 0 || closed || !document.getElementById("like-form")) return;  // none on a patent page
    document.getElementById("like-figure").value = cards[current].dataset.figure;
    run(document.getElementById("like-form"), "Searching for more like " + cards[current].dataset.caption);
  }

  document.querySelectorAll("dialog [data-close]").forEach((b) => b.addEventListener("click", () => b.closest("dialog").close()));
  const helpButton = document.getElementById("help-button");
  if (helpButton) helpButton.addEventListener("click", () => help.showModal());

  // ---- mouse and touch ----
  // A grade or category button, on a card or in the compare view: sets it on the card's hit, or
  // clears it when it is on already. False for any other button.
  function judgeByButton(card, b) {
    if (b.dataset.grade !== undefined) toggleGrade(card, b.dataset.grade);
    else if (b.dataset.category !== undefined) toggleCategory(card, b.dataset.category);
    else return false;
    return true;
  }
  // A grade or category, by button or by key: set it, or clear it when it is the hit's already.
  function toggleGrade(card, grade) { judge(card, (c) => ({ grade: c.dataset.grade === grade ? null : parseInt(grade, 10) })); }
  function toggleCategory(card, category) { judge(card, (c) => ({ category: c.dataset.category === category ? "" : category })); }
  if (compareButtons) compareButtons.addEventListener("click", (e) => {
    const b = e.target.closest("button");
    if (b && cards[current]) judgeByButton(cards[current], b);  // the hit the compare view shows
  });
  cards.forEach((card, i) => {
    paint(card);
    card.addEventListener("focus", () => { current = i; });
    card.addEventListener("click", (e) => {
      current = i;
      if (e.target.closest("a")) return;  // a link of the card ("search with this drawing") goes where it says
      const b = e.target.closest("button");
      if (!b) { openCompare(); return; }
      if (judgeByButton(card, b)) return;
      if (b.dataset.do === "compare") openCompare();
      else if (b.dataset.do === "like") moreLikeThis();
      else if (b.dataset.do === "note") openNote();
    });
  });

  // ---- keyboard ----
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || !window.shortcutKey(e)) return;
    if (noteDialog.open) return;
    if (help.open) { if (e.key === "?") help.close(); return; }
    if (compare.open) {
      const pan = e.shiftKey && { ArrowLeft: [1, 0], ArrowRight: [-1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] }[e.key];
      if (pan) {  // Shift+arrows pan all the drawings together, as a drag does (the view moves, the drawing follows)
        e.preventDefault(); view.x += pan[0] * 40; view.y += pan[1] * 40; applyView();
      } else if (e.key === "ArrowRight" || e.key === "j") { e.preventDefault(); step(1); }
      else if (e.key === "ArrowLeft" || e.key === "k") { e.preventDefault(); step(-1); }
      else if (e.key === "+") zoom(1.25);
      else if (e.key === "-") zoom(0.8);
      else if (e.key === "=") resetView();
      else if ("0123".includes(e.key) && e.key.length === 1) toggleGrade(cards[current], e.key);
      else if ("xya".includes(e.key.toLowerCase()) && e.key.length === 1) toggleCategory(cards[current], e.key.toUpperCase());
      else if (e.key === "c") compare.close();
      else if (e.key === "s") keep();
      else if (e.key === "?") { e.preventDefault(); help.showModal(); }  // over the compare view
      return;
    }
    if (window.typingInField()) return;
    const card = cards[current];
    const key = e.key;
    if (key === "j" || key === "ArrowDown" || key === "ArrowRight") { e.preventDefault(); step(1); }
    else if (key === "k" || key === "ArrowUp" || key === "ArrowLeft") { e.preventDefault(); step(-1); }
    else if (key === "Home") { e.preventDefault(); edge(1); }
    else if (key === "End") { e.preventDefault(); edge(-1); }
    else if (key === "u" && filterBar) applyFilter(filter === "unjudged" ? "all" : "unjudged");
    else if (key === "?") { e.preventDefault(); help.showModal(); }
    else if (key === "r") run(document.getElementById("refine-form"), "Refining with the case's judgments");
    else if (!card) return;
    else if ("0123".includes(key) && key.length === 1) toggleGrade(card, key);
    else if ("xya".includes(key.toLowerCase()) && key.length === 1) toggleCategory(card, key.toUpperCase());
    else if (key === "c" || (key === "Enter" && e.target === card)) { e.preventDefault(); openCompare(); }  // Enter on the card, as a click on it
    else if (key === "m") moreLikeThis();
    else if (key === "n") { e.preventDefault(); openNote(); }
    else if (key === "p" && card.dataset.patentUrl) window.location = card.dataset.patentUrl;
    else if (key === "q" && card.querySelector("[data-do=query]")) window.location = card.querySelector("[data-do=query]").href;
  });
})();
