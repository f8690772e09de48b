// Case page: the query composer. Up to N drawings (drop, paste, choose), a crop box on each
// (drag on its preview; sent as fractions and applied on the server to the original pixels),
// the description with its weight, the case's classes one click away.
(function () {
  "use strict";
  const form = document.getElementById("compose-form");
  if (!form) return;
  const max = parseInt(form.dataset.max, 10) || 8;
  const input = document.getElementById("images-input");
  const zone = document.getElementById("dropzone");
  const list = document.getElementById("views");
  const cropsInput = document.getElementById("crops-input");
  const cropHint = document.getElementById("crop-hint");
  const hint = document.getElementById("dropzone-hint");
  const emptyHint = hint.innerHTML;  // the server's words for an empty composer
  let views = [];  // {file, url, crop: [l, t, r, b] | null}

  function previewable(file) {
    return file.type.startsWith("image/") && file.type !== "image/tiff";
  }

  function sync() {
    const transfer = new DataTransfer();
    views.forEach((v) => transfer.items.add(v.file));
    input.files = transfer.files;
    cropsInput.value = views.some((v) => v.crop) ? JSON.stringify(views.map((v) => v.crop)) : "";
    cropHint.hidden = !views.some((v) => v.url);
    if (!views.length) hint.innerHTML = emptyHint;
    else if (views.length >= max) hint.textContent = `${views.length} of ${max} drawings, the most a query takes — remove one to add another`;
    else hint.textContent = `${views.length} of ${max} drawings — add more, or search`;
  }

  function add(files) {
    const room = max - views.length;
    const taken = Array.from(files).slice(0, Math.max(room, 0));
    if (files.length > room) alert(`A query takes at most ${max} drawings; ${files.length - taken.length} left out.`);
    taken.forEach((file) => views.push({ file, url: previewable(file) ? URL.createObjectURL(file) : "", crop: null }));
    render();
  }

  function render() {
    list.innerHTML = "";
    views.forEach((view, i) => {
      const li = document.createElement("li");
      li.className = "view";
      const frame = document.createElement("div");
      frame.className = "crop-frame";
      if (view.url) {
        const img = document.createElement("img");
        img.src = view.url;
        img.alt = view.file.name;
        img.draggable = false;
        img.addEventListener("error", () => { view.url = ""; view.unreadable = true; render(); });
        frame.appendChild(img);
        const box = document.createElement("div");
        box.className = "crop-box";
        frame.appendChild(box);
        showBox(box, view.crop);
        enableCrop(frame, box, view);
      } else if (view.unreadable) {  // said now, not only by the server after the search is sent
        frame.textContent = view.file.name + " cannot be read as a drawing (PNG, JPEG, TIFF or PDF expected): remove it.";
        frame.classList.add("field-error");
      } else {
        frame.textContent = view.file.name + " (first page; no preview to crop)";
      }
      li.appendChild(frame);
      const bar = document.createElement("div");
      bar.className = "view-bar";
      bar.innerHTML = `<span class="view-name" tabindex="-1">${i + 1}. ${escapeHtml(view.file.name)}</span>`;
      const clear = button("Clear crop", () => {
        view.crop = null;
        render();
        // the button pressed is gone with the crop: the keyboard stays on this drawing's name, not on
        // its Remove (a second Enter would remove the drawing)
        list.children[i].querySelector(".view-name").focus();
      });
      clear.hidden = !view.crop;
      clear.className = "link clear-crop";
      bar.appendChild(clear);
      const remove = button("Remove", () => {
        views.splice(i, 1);
        render();
        // the button pressed is gone: the keyboard goes to the next drawing's Remove, else to adding one
        const left = list.querySelectorAll(".view-bar .remove");
        (left[Math.min(i, left.length - 1)] || input).focus();
      });
      remove.className = "link remove";
      remove.setAttribute("aria-label", `Remove drawing ${i + 1} (${view.file.name})`);
      bar.appendChild(remove);
      li.appendChild(bar);
      list.appendChild(li);
    });
    sync();
  }

  function button(text, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    b.addEventListener("click", onClick);
    return b;
  }

  function escapeHtml(text) {
    const span = document.createElement("span");
    span.textContent = text;
    return span.innerHTML;
  }

  function showBox(box, crop) {
    box.hidden = !crop;
    if (!crop) return;
    box.style.left = crop[0] * 100 + "%";
    box.style.top = crop[1] * 100 + "%";
    box.style.width = (crop[2] - crop[0]) * 100 + "%";
    box.style.height = (crop[3] - crop[1]) * 100 + "%";
  }

  function enableCrop(frame, box, view) {
    const img = frame.querySelector("img");
    let start = null;
    const clamp = (v) => Math.min(1, Math.max(0, v));
    function at(e) {
      const r = img.getBoundingClientRect();
      return [clamp((e.clientX - r.left) / r.width), clamp((e.clientY - r.top) / r.height)];
    }
    function boxFrom(a, b) {
      return [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[0], b[0]), Math.max(a[1], b[1])];
    }
    frame.addEventListener("pointerdown", (e) => {
      e.preventDefault();
      start = at(e);
      frame.setPointerCapture(e.pointerId);
    });
    frame.addEventListener("pointermove", (e) => { if (start) showBox(box, boxFrom(start, at(e))); });
    frame.addEventListener("pointerup", (e) => {
      if (!start) return;
      const crop = boxFrom(start, at(e));
      start = null;
      const big = crop[2] - crop[0] > 0.02 && crop[3] - crop[1] > 0.02;
      view.crop = big ? rounded(crop) : null;
      render();
    });

    // By keyboard: the frame takes the focus; the arrows move the box (the first one starts it
    // inset a tenth), Shift+arrows move its lower-right corner, Delete clears it. 2 % a press.
    const name = view.file.name;
    frame.tabIndex = 0;
    frame.setAttribute("role", "group");
    frame.setAttribute("aria-label", `Crop of ${name}: arrows move the box, Shift+arrows size it, Delete clears it`);
    frame.addEventListener("keydown", (e) => {
      const step = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[e.key];
      const clear = e.key === "Delete" || e.key === "Backspace";
      if (!step && !(clear && view.crop)) return;
      e.preventDefault();
      if (clear) view.crop = null;
      else if (!view.crop) view.crop = [0.1, 0.1, 0.9, 0.9];
      else view.crop = keyedBox(view.crop, step, e.shiftKey);
      const index = views.indexOf(view);
      render();
      list.children[index].querySelector(".crop-frame").focus();
      const c = view.crop;
      document.getElementById("crop-said").textContent = c
        ? `Crop of ${name}: ${Math.round(c[0] * 100)} to ${Math.round(c[2] * 100)} % across, ${Math.round(c[1] * 100)} to ${Math.round(c[3] * 100)} % down`
        : `Crop of ${name} cleared`;
    });
  }

  // A crop box moved (or, with resize, its lower-right corner moved) by 2 % of the drawing, kept
  // inside it and at least 5 % wide and high.
  function keyedBox(crop, step, resize) {
    const d = 0.02, least = 0.05;
    const [x0, y0, x1, y1] = crop;
    let box;
    if (resize) {
      box = [x0, y0, Math.min(1, Math.max(x0 + least, x1 + step[0] * d)), Math.min(1, Math.max(y0 + least, y1 + step[1] * d))];
    } else {
      const dx = Math.min(1 - x1, Math.max(-x0, step[0] * d)), dy = Math.min(1 - y1, Math.max(-y0, step[1] * d));
      box = [x0 + dx, y0 + dy, x1 + dx, y1 + dy];
    }
    return rounded(box);
  }

  // a crop box as sent: fractions to 4 decimals
  const rounded = (box) => box.map((v) => Math.round(v * 10000) / 10000);

  input.addEventListener("change", () => {
    const chosen = Array.from(input.files).filter((f) => !views.some((v) => v.file === f));
    add(chosen);
  });
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    add(e.dataTransfer.files);
  });
  document.addEventListener("paste", (e) => {
    const files = Array.from(e.clipboardData.items).filter((i) => i.kind === "file").map((i) => i.getAsFile());
    if (files.length) add(files);
  });

  // "Search with this drawing" (a review card's ⌖ or q): the figures the page was opened with
  // (?drawing=ID, named by the server after their patent and figure) are fetched and added as
  // drawings, as if dropped here, to be cropped or joined by the application's views; the address
  // then forgets them, so a reload does not add them twice.
  const preload = JSON.parse(document.getElementById("preload-drawings").textContent || "[]") || [];
  if (preload.length) {
    hint.textContent = "Loading " + preload.map((d) => d.name).join(", ") + "…";
    Promise.all(preload.map((d) => fetch(d.url, { credentials: "same-origin" }).then((r) => {
      if (!r.ok) throw new Error(d.name + ": the server answered " + r.status);
      return r.blob().then((blob) => new File([blob], d.name, { type: blob.type }));
    }))).then((files) => {
      add(files);
      zone.scrollIntoView({ block: "nearest" });
    }).catch((err) => { hint.textContent = "The drawing could not be loaded (" + err.message + "): add it again."; });
    const address = new URL(window.location.href);
    address.searchParams.delete("drawing");
    history.replaceState(null, "", address.pathname + address.search + address.hash);
  }

  const text = document.getElementById("text-input");
  window.queryFormKeys({  // u, / and Enter, as on the plain search page
    form, files: input, text,
    elsewhere: () => Boolean(document.querySelector("dialog[open]") || document.activeElement.closest(".crop-frame")),
  });
  document.getElementById("clear-text").addEventListener("click", () => { text.value = ""; text.focus(); });
  const weight = document.getElementById("weight-input");
  const weightOut = document.getElementById("weight-out");
  weight.addEventListener("input", () => { weightOut.textContent = weight.value; });
  document.querySelectorAll(".use-class").forEach((b) => b.addEventListener("click", () => {
    const target = form.querySelector(`[name=${b.dataset.target}]`);
    target.value = b.dataset.target === "us_class_main" ? b.dataset.value.split("/")[0] : b.dataset.value;
  }));
  // The cutoff this search will use, said beside the Search button whatever the state of the
  // folded filters: a browser that restores the form (Back) may have ticked "No cutoff" out of
  // sight. Any filter that is set opens the fold.
  const cutoffInput = form.querySelector("input[name=cutoff]");
  const noCutoff = form.querySelector("input[name=ignore_cutoff]");
  const cutoffHint = document.getElementById("cutoff-hint");
  function sayCutoff() {
    const strong = document.createElement("strong");
    let before = "Cutoff: granted before ", after = " (the case's).";
    // the case's own date typed in is no override (the server logs it as the case's cutoff)
    const overridden = Boolean(cutoffInput.value) && cutoffInput.value !== cutoffHint.dataset.caseCutoff;
    if (noCutoff.checked) {
      before = "⚠ No cutoff for this search: "; strong.textContent = "later patents are shown too"; after = " (marked in the log).";
    } else if (overridden) {
      before = "⚠ Cutoff for this search: granted before "; strong.textContent = cutoffInput.value;
      after = ` instead of the case's ${cutoffHint.dataset.caseCutoff} (marked in the log).`;
    } else {
      strong.textContent = cutoffHint.dataset.caseCutoff;
    }
    cutoffHint.replaceChildren(before, strong, after);
    cutoffHint.classList.toggle("warning", noCutoff.checked || overridden);
    const fold = cutoffInput.closest("details");
    const set = Array.from(fold.querySelectorAll("input")).some((i) => (i.type === "checkbox" ? i.checked : i.value))
      || fold.querySelector("select").selectedOptions.length > 0;
    if (set) fold.open = true;
  }
  [cutoffInput, noCutoff].forEach((input) => input.addEventListener("input", sayCutoff));
  window.addEventListener("pageshow", sayCutoff);  // after the browser has restored the form
  sayCutoff();

  // The search is sent by script: a refusal is shown here and the drawings, crops and choices
  // stay (a reloaded page could not fill the file input again); success opens the search page.
  const composeError = document.getElementById("compose-error");
  const searchButton = document.getElementById("search-button");
  const progress = document.getElementById("search-progress");
  function showErrors(lines) {
    composeError.replaceChildren(...lines.map((line) => { const p = document.createElement("p"); p.textContent = line; return p; }));
    composeError.hidden = false;
    searchButton.disabled = false;
    progress.hidden = true;
    composeError.focus();  // the button had the focus and was disabled: keep the keyboard here
  }
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (searchButton.disabled) return;  // one click, one search
    sync();
    searchButton.disabled = true;
    progress.hidden = false;
    composeError.hidden = true;
    let response, data = {};
    // the current token: after a new login in another tab the form's own is stale
    form.querySelector("input[name=csrfmiddlewaretoken]").value = window.csrfToken();
    try {
      response = await fetch(form.action, { method: "POST", body: new FormData(form), headers: { Accept: "application/json" }, credentials: "same-origin" });
      data = await response.json().catch(() => ({}));
    } catch (err) {
      showErrors(["The search could not be sent (" + err.message + "); your drawings are still here: try again."]);
      return;
    }
    if (response.ok && data.url) { window.location.href = data.url; return; }
    showErrors(data.errors || ["The server answered " + response.status + "; your drawings are still here: try again."]);
  });
  window.addEventListener("pageshow", (e) => {  // back from the results (bfcache): the form works again
    if (!e.persisted) return;
    document.getElementById("search-progress").hidden = true;
    document.getElementById("search-button").disabled = false;
  });
})();
