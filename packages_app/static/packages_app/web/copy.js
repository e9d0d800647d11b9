// Copy buttons of the web UI: a button with data-copy="<id>" copies that element's text
// (or, for a form field, its value).
// A static file, not an inline script: the pages' Content-Security-Policy runs no inline code.
"use strict";
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  const label = button.textContent;
  try {
    await navigator.clipboard.writeText(source.tagName === "INPUT" ? source.value : source.textContent);
    button.textContent = "Copied";
  } catch (error) {
    // No clipboard (plain http on another host): select the text for Ctrl+C instead.
    if (source.tagName === "INPUT") {
      source.select();
    } else {
      const range = document.createRange();
      range.selectNodeContents(source);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
    button.textContent = "Selected: press Ctrl+C";
  }
  setTimeout(() => { button.textContent = label; }, 2000);
});
