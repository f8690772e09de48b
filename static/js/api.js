// What the pages' scripts share when they talk to the server: the CSRF token, and a refused
// request as a line for the page.
//
// The CSRF token: the cookie's, which Django renews at each login, else the form's. A page left
// open across a new login (in another tab) holds a stale token in its form; the cookie is current.
//
// A refused API request as a line for the page that sent it. The API names a refused field by its
// key ("models: This list may not be empty."), for API clients; the page says the label its form
// shows ("Models: This list may not be empty."), as the server-rendered pages do
// (patentsearch.api.error_messages). The label of a key: the data-label of the control of that
// name, or of the element around it (a fieldset of checkboxes), else the control's label's own text.
(function () {
  "use strict";

  function ownText(element) {
    return Array.from(element.childNodes).filter((n) => n.nodeType === Node.TEXT_NODE)
      .map((n) => n.textContent).join(" ").replace(/\s+/g, " ").trim();
  }

  function labelOf(key) {
    const control = document.querySelector("[name='" + CSS.escape(key) + "']");
    if (!control) return "";
    const marked = control.closest("[data-label]");
    if (marked) return marked.dataset.label;
    const label = control.labels && control.labels[0];
    return label ? ownText(label) : "";
  }

  window.csrfToken = function () {
    const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    const field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  };

  // The message of an API error body ({"message", "extra": {"fields"}}); fallback when it has none.
  window.apiErrorMessage = function (data, fallback) {
    const message = (data && data.message) || fallback;
    const fields = data && data.extra && data.extra.fields;
    if (!fields || typeof fields !== "object" || Array.isArray(fields)) return message;
    const key = Object.keys(fields)[0];
    if (!key || key === "non_field_errors" || !message.startsWith(key + ": ")) return message;
    const label = labelOf(key);
    return label ? label + ": " + message.slice(key.length + 2) : message;
  };

  // Single-key shortcuts (a grade, a category, a page) can be turned off in this browser, for
  // whoever sets them off by accident (speech input, a stray key): the checkbox at the foot of
  // every page (data-shortcuts). Keys that are not characters (arrows, Home, End, Enter, Escape)
  // keep working. Each page's key handler asks window.shortcutKey(event) first.
  const SHORTCUTS = "patentsearch.shortcuts";
  let chosen = null;  // a choice made on this page wins over storage that could not keep it
  function shortcutsOn() {
    if (chosen !== null) return chosen;
    try { return window.localStorage.getItem(SHORTCUTS) !== "off"; } catch (e) { return true; }
  }
  // a keydown without a key (Chrome's autofill sends some) is no shortcut
  window.shortcutKey = function (event) {
    return typeof event.key === "string" && (event.key.length !== 1 || shortcutsOn());
  };
  // The keyboard is in a field: a letter there is text, not a shortcut.
  window.typingInField = function () {
    return ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
  };
  // A query form's keys, the plain search page's and a case composer's alike: u chooses drawings,
  // / goes to the description, where Enter searches (Shift+Enter: a new line; Enter that ends an
  // input method's composition only ends it). `elsewhere()`: another part of the page has the keys
  // now (a dialog, a crop box).
  window.queryFormKeys = function ({ form, files, text, elsewhere }) {
    document.addEventListener("keydown", (e) => {
      if (e.ctrlKey || e.metaKey || e.altKey || !window.shortcutKey(e)) return;  // Ctrl+U is the browser's
      if (elsewhere() || window.typingInField()) return;
      if (e.key === "u") { e.preventDefault(); files.click(); }
      else if (e.key === "/") { e.preventDefault(); text.focus(); }
    });
    text.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
    });
  };
  const toggles = Array.from(document.querySelectorAll("input[data-shortcuts]"));
  function showChoice() {
    const on = shortcutsOn();
    toggles.forEach((box) => { box.checked = on; });
    document.documentElement.classList.toggle("keys-off", !on);  // hides the single-key hints
  }
  toggles.forEach((box) => box.addEventListener("change", () => {
    chosen = box.checked;
    try { window.localStorage.setItem(SHORTCUTS, chosen ? "on" : "off"); } catch (e) { /* kept for this page */ }
    showChoice();
  }));
  window.addEventListener("storage", (event) => {  // turned on or off in another tab
    if (event.key === SHORTCUTS) { chosen = null; showChoice(); }
  });
  showChoice();

  // A page sent back with a form's refusal (data-focus, tabindex -1) takes the keyboard there:
  // the refusal is read out and the next Tab leads into the form, not from the top of the page.
  const refusal = document.querySelector("[data-focus]");
  if (refusal) refusal.focus();

  // A form that undoes something (deletes a token, deactivates a user) asks first: its
  // data-confirm is the question. A button with data-copy copies the text of the element of that
  // id (a token or a one-time password shown once) and says so.
  document.addEventListener("submit", (event) => {
    const question = event.target.dataset && event.target.dataset.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });
  // A table's rows, each a list of its cells' texts (the header first).
  const tableRows = (table) => Array.from(table.rows).map((row) => Array.from(row.cells).map((c) => c.textContent.trim()));
  document.querySelectorAll("button[data-copy]").forEach((button) => button.addEventListener("click", async () => {
    const source = document.getElementById(button.dataset.copy);
    const text = source.tagName === "TABLE"  // a table: tab-separated lines, as a spreadsheet pastes them
      ? tableRows(source).map((cells) => cells.join("\t")).join("\n") : source.textContent.trim();
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied";
    } catch (e) {  // no clipboard here (a page not served over https): select it for Ctrl+C
      window.getSelection().selectAllChildren(source);
      button.textContent = "Selected: press Ctrl+C";
    }
  }));
  // A button with data-download saves a file made by the server into this page (a json_script
  // of that id holding its text; data-filename its name): what it holds (one-time passwords) is
  // never sent again by the server.
  document.querySelectorAll("button[data-download]").forEach((button) => button.addEventListener("click", () => {
    const text = JSON.parse(document.getElementById(button.dataset.download).textContent);
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
    link.download = button.dataset.filename || "download.csv";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }));

  // A page that reloads itself to show what a finished job made (the console's job and evaluation
  // pages, a model registered) keeps the keyboard's place: the focused control takes the focus
  // back when it is there again, found by its id, or by its name (and value) in the nearest
  // element with an id. A control known only by its place (a model row's Activate) is not kept:
  // its place may hold another action after the reload. The browser keeps the scroll. One reload,
  // this page only: stored for the session, read once.
  const PLACE = "patentsearch.place";
  // `instead`: the control to keep where the focus has gone (a submit button disabled while its
  // request ran lets the focus fall to the page).
  window.reloadKeepingPlace = function (instead) {
    let el = document.activeElement;
    if ((!el || el === document.body) && instead) el = instead;
    let place = null;
    if (el && el !== document.body && el.id) place = { id: el.id };
    else if (el && el.name && el.parentElement && el.parentElement.closest("[id]")) {
      const checkable = el.type === "checkbox" || el.type === "radio";
      place = { within: el.parentElement.closest("[id]").id, name: el.name, value: checkable ? el.value : null };
    }
    if (place) {
      place.path = window.location.pathname;
      try { window.sessionStorage.setItem(PLACE, JSON.stringify(place)); } catch (e) { /* the focus starts at the top */ }
    }
    window.location.reload();
  };
  function placed(place) {
    if (place.id) return document.getElementById(place.id);
    const within = document.getElementById(place.within);
    const value = place.value === null ? "" : "[value='" + CSS.escape(place.value) + "']";
    return within && within.querySelector("[name='" + CSS.escape(place.name) + "']" + value);
  }
  let place = null;
  try {
    place = JSON.parse(window.sessionStorage.getItem(PLACE) || "null");
    window.sessionStorage.removeItem(PLACE);
  } catch (e) { place = null; }
  if (place && place.path === window.location.pathname && !refusal) {
    const target = placed(place);
    if (target && !target.hidden && !target.disabled) target.focus({ preventScroll: true });
  }
})();
