// Keyboard shortcuts: an element with data-key="a" is clicked (or, for a text box, focused)
// when that key is pressed outside a text box. Escape leaves a text box.
//
// A shortcut that resolves the item (data-resolves) must act only on a page the reviewer has
// seen. Pressing one redirects to the next item, so it ignores a held key's auto-repeat (the
// repeats would land on the next page and accept its top candidate unseen), it is armed only
// ARM_MS after the page is shown (a double press would do the same), and it fires once per
// page. Enter is never a shortcut.
const ARM_MS = 500;
let armed = false;
let resolving = false;

function arm() {
  armed = false;
  resolving = false;
  delete document.documentElement.dataset.shortcuts;
  setTimeout(() => {
    armed = true;
    // Lets the browser tests wait until a key press counts.
    document.documentElement.dataset.shortcuts = "armed";
  }, ARM_MS);
}

arm();
// A page restored from the back/forward cache is shown again: guard it afresh.
window.addEventListener("pageshow", (event) => {
  if (event.persisted) arm();
});

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement) {
    if (event.key === "Escape") target.blur();
    return;
  }
  const element = document.querySelector(`[data-key="${CSS.escape(event.key)}"]`);
  if (!element) return;
  event.preventDefault();
  if (element.hasAttribute("data-resolves")) {
    if (event.repeat || !armed || resolving) return;
    resolving = true;
  }
  if (element instanceof HTMLInputElement) element.focus();
  else element.click();
});
