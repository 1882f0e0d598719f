// bridgehub UI behaviour: small, dependency-free, and optional (every page works without it).
"use strict";

// <form data-confirm="Delete this?"> asks before submitting.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

// A picture that does not load leaves its placeholder (kit.picture), not a broken-image icon.
// Load errors do not bubble, so they are caught on their way down; pictures that failed
// before this deferred script ran are told by their state.
document.addEventListener("error", (event) => {
  if (event.target instanceof HTMLImageElement && event.target.matches(".picture__image")) {
    event.target.remove();
  }
}, true);
for (const image of document.querySelectorAll(".picture__image")) {
  if (image.complete && image.naturalWidth === 0) {
    image.remove();
  }
}

// <button data-copy="#selector"> copies the text of the element it names.
document.addEventListener("click", async (event) => {
  const button = event.target instanceof Element ? event.target.closest("[data-copy]") : null;
  if (!button) {
    return;
  }
  const source = document.querySelector(button.dataset.copy);
  if (!source || !navigator.clipboard) {
    return;
  }
  const label = button.textContent;
  try {
    await navigator.clipboard.writeText(source.textContent.trim());
    button.textContent = "Copied";
  } catch {
    button.textContent = "Select and copy it";
  }
  setTimeout(() => { button.textContent = label; }, 2000);
});
