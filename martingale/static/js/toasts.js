// Toasts in an aria-live region: info, success, warning, error. An id replaces the same toast.
import { h } from "./dom.js";
import { isPhone } from "./layout.js";

const ICON = { info: "ℹ", success: "✓", warning: "⚠", error: "✕" };
const open = new Map(); // id -> toast handle
let region = null;
const HISTORY = 30;
const past = []; // the newest first: {at, kind, title, message}
const listeners = new Set();

/** The last notifications, newest first, and a way to hear of each new one. */
export function history() { return past; }
export function onRecord(fn) { listeners.add(fn); }

/** Keep a notification in the history without showing it: frequent news (a new asset every few
 *  seconds) would otherwise cover the page. */
export function note({ kind = "info", title = "", message }) {
  past.unshift({ at: Date.now(), kind, title, message });
  if (past.length > HISTORY) past.length = HISTORY;
  for (const fn of listeners) fn();
}

export function init() {
  region = document.getElementById("toasts");
}

/**
 * Show a toast. timeout 0 keeps it until closed. Returns {update(text), close()}.
 * onClose runs only when the player closes it.
 */
export function toast({ id, kind = "info", title, message, timeout = 4500, onClose, record = true }) {
  if (id && open.has(id)) {
    const existing = open.get(id);
    existing.update(message, title);
    return existing;
  }
  if (record) note({ kind, title, message });
  const titleEl = h("strong", { class: "toast-title", text: title || "" });
  const body = h("span", { class: "toast-msg", text: message });
  const closeButton = h("button", { type: "button", class: "toast-close", "aria-label": "Dismiss notification", text: "×" });
  const el = h("div", { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status", dataset: { kind } },
    h("span", { class: "toast-icon", "aria-hidden": "true", text: ICON[kind] || "" }),
    h("div", { class: "toast-text" }, title ? titleEl : null, body),
    closeButton);
  let timer = null;
  const handle = {
    el,
    update(text, newTitle) {
      if (body.textContent !== text) body.textContent = text;
      if (newTitle !== undefined && titleEl.textContent !== newTitle) titleEl.textContent = newTitle;
    },
    close() {
      clearTimeout(timer);
      if (id) open.delete(id);
      el.classList.add("leaving");
      setTimeout(() => el.remove(), 180);
    },
  };
  closeButton.addEventListener("click", () => { handle.close(); onClose?.(); });
  if (timeout > 0) timer = setTimeout(() => handle.close(), timeout);
  if (id) open.set(id, handle);
  region.prepend(el);
  const limit = isPhone() ? 3 : 5;
  while (region.children.length > limit) region.lastElementChild.remove();
  return handle;
}

export function close(id) {
  open.get(id)?.close();
}

export function isOpen(id) {
  return open.has(id);
}
