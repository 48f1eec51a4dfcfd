// Keyboard play: B and S open a buy or sell of the selected asset, the arrow keys move through the
// assets, Escape leaves the quantity field (open dialogs close themselves on Escape). Keys typed
// into a field stay the field's.
import { $, $$ } from "./dom.js";
import { isPhone } from "./layout.js";
import { holding, on } from "./state.js";
import * as fmt from "./format.js";

export function init() {
  document.addEventListener("keydown", onKey);
  $("#trade-symbol")?.addEventListener("change", markSelected);
  on("assets", () => setTimeout(markSelected)); // after the board and the form have redrawn
  markSelected();
}

function typing(target) {
  return target.closest("input, select, textarea, [contenteditable='true']") !== null;
}

function onKey(e) {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || document.querySelector("dialog[open]")) return;
  if (e.key === "Escape" && typing(e.target)) { e.target.blur(); return; }
  if (typing(e.target)) return;
  const key = e.key.toLowerCase();
  if (key === "b" || key === "s") {
    e.preventDefault();
    if (isPhone()) $(`[data-m-action="${key === "b" ? "buy" : "sell"}"]`)?.click();
    else openDesktop(key === "b" ? "buy" : "sell");
  } else if ((e.key === "ArrowDown" || e.key === "ArrowUp") && !isPhone() && !e.target.closest("#m-cards")) {
    e.preventDefault();
    move(e.key === "ArrowDown" ? 1 : -1);
  }
}

function openDesktop(side) {
  const symbol = $("#trade-symbol").value;
  $(`#trade-form input[name="side"][value="${side}"]`).checked = true;
  const qty = $("#trade-qty");
  if (side === "sell" && holding(symbol)) qty.value = fmt.plainQty(holding(symbol).quantity);
  qty.dispatchEvent(new Event("input"));
  qty.focus();
  qty.select();
}

/** The next or previous asset in the board's order (as sorted and filtered on screen). */
function move(step) {
  const rows = $$("#asset-table tbody tr").filter((r) => !r.hidden);
  if (!rows.length) return;
  const select = $("#trade-symbol");
  const at = rows.findIndex((r) => r.dataset.symbol === select.value);
  const next = rows[Math.max(0, Math.min(rows.length - 1, at + step))];
  select.value = next.dataset.symbol;
  select.dispatchEvent(new Event("change"));
  next.scrollIntoView({ block: "nearest" });
}

function markSelected() {
  const symbol = $("#trade-symbol").value;
  for (const r of $$("#asset-table tbody tr")) r.classList.toggle("selected", r.dataset.symbol === symbol);
}
