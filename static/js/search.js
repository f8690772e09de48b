// Search page: drag-and-drop / paste a drawing, preview it, view results large, keyboard shortcuts.
(function () {
  "use strict";
  const input = document.getElementById("image-input");
  const zone = document.getElementById("dropzone");
  const preview = document.getElementById("query-preview");
  const hint = document.getElementById("dropzone-hint");
  const form = document.getElementById("search-form");
  const viewer = document.getElementById("viewer");
  const viewerImage = document.getElementById("viewer-image");
  const viewerCaption = document.getElementById("viewer-caption");
  const cards = Array.from(document.querySelectorAll(".card"));
  let current = -1;

  function showPreview(file) {
    if (!file || !file.type.startsWith("image/") || file.type === "image/tiff") {
      hint.textContent = file ? file.name : hint.textContent;
      return;
    }
    preview.src = URL.createObjectURL(file);
    preview.hidden = false;
    hint.hidden = true;
  }

  function useFile(file) {
    const transfer = new DataTransfer();
    transfer.items.add(file);
    input.files = transfer.files;
    showPreview(file);
  }

  preview.addEventListener("error", () => {  // a file named .png that is no image: say so before the search
    if (!input.files.length) return;
    preview.hidden = true;
    hint.hidden = false;
    hint.textContent = input.files[0].name + " cannot be read as a drawing (PNG, JPEG, TIFF or PDF expected).";
  });
  input.addEventListener("change", () => showPreview(input.files[0]));
  if (input.files.length) showPreview(input.files[0]);  // chosen before this script ran
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    if (e.dataTransfer.files.length) useFile(e.dataTransfer.files[0]);
  });
  document.addEventListener("paste", (e) => {
    const item = Array.from(e.clipboardData.items).find((i) => i.kind === "file");
    if (item) useFile(item.getAsFile());
  });

  // On a phone the results are below the query form: bring them (or the error) into view.
  const results = document.getElementById("results");
  if (window.matchMedia("(max-width: 800px)").matches && results.querySelector(".card, .error")) {
    results.scrollIntoView();
  }

  function open(index) {
    if (index < 0 || index >= cards.length) return;
    current = index;
    viewerImage.src = cards[index].dataset.full;
    viewerCaption.textContent = cards[index].dataset.caption;
    if (!viewer.open) viewer.showModal();
  }
  cards.forEach((card, i) => card.addEventListener("click", () => open(i)));
  document.getElementById("viewer-close").addEventListener("click", () => viewer.close());
  viewer.addEventListener("click", (e) => { if (e.target === viewer) viewer.close(); });

  document.addEventListener("keydown", (e) => {
    if (!viewer.open || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "ArrowRight") open(current + 1);
    if (e.key === "ArrowLeft") open(current - 1);
  });
  window.queryFormKeys({ form, files: input, text: form.querySelector("textarea"), elsewhere: () => viewer.open });
  form.addEventListener("submit", () => {
    document.getElementById("search-progress").hidden = false;
    document.getElementById("search-button").disabled = true;  // one search per click, however impatient
  });
  window.addEventListener("pageshow", (e) => {  // back from the results (bfcache): the form works again
    if (!e.persisted) return;
    document.getElementById("search-progress").hidden = true;
    document.getElementById("search-button").disabled = false;
  });
})();
