// The phone's buy/sell sheet: price, cash or holding, max quantity and a live estimated cost.
import { $, setText } from "../dom.js";
import * as fmt from "../format.js";
import { state, on, holding } from "../state.js";
import { placeTrade } from "../trade.js";
import { quantityProblem, limitProblem, maxOrderQuantity, orderValue } from "../order.js";

let dialog;
let side = "buy";
let symbol = null;
let sending = false;

function el(name) { return $(`[data-sheet="${name}"]`, dialog); }

export function openSheet(newSide, newSymbol) {
  side = newSide;
  symbol = newSymbol;
  const input = $("#m-sheet-qty", dialog);
  const held = holding(symbol);
  input.value = side === "sell" && held ? fmt.plainQty(held.quantity) : "";
  setError(null);
  setText($("#m-sheet-title", dialog), `${side === "buy" ? "Buy" : "Sell"} ${symbol}`);
  const confirm = $('[data-sheet-action="confirm"]', dialog);
  confirm.className = `btn ${side}`;
  setText(confirm, side === "buy" ? "Confirm buy" : "Confirm sell");
  refreshSheet();
  if (!dialog.open) dialog.showModal();
  input.focus();
}

function setError(message, kind = "input") {
  const error = $("#m-sheet-error", dialog);
  error.dataset.kind = message ? kind : "";
  error.hidden = !message;
  setText(error, message || "");
  $("#m-sheet-qty", dialog).toggleAttribute("aria-invalid", Boolean(message));
}

/** Live figures while the sheet is open. */
function refreshSheet() {
  if (!dialog?.open) return;
  const asset = state.assets.get(symbol);
  const held = holding(symbol);
  const limit = limitProblem(side, symbol, $("#m-sheet-qty", dialog).value.trim());
  const worth = limit ? null : orderValue(symbol, $("#m-sheet-qty", dialog).value.trim());
  const error = $("#m-sheet-error", dialog);
  if (limit || error.dataset.kind === "limit") setError(limit, "limit");
  setText(el("price"), asset ? fmt.price(asset.price) : "expired");
  setText(el("have-label"), side === "buy" ? "Available cash" : "You hold");
  setText(el("have"), side === "buy" ? fmt.usd(state.portfolio?.cash ?? "0") : fmt.qty(held?.quantity ?? "0"));
  setText(el("max"), fmt.qty(maxOrderQuantity(side, symbol)));
  setText(el("est-label"), side === "buy" ? "Estimated cost" : "Estimated proceeds");
  setText(el("estimate"), worth === null ? "—" : fmt.usd(worth));
  $('[data-sheet-action="confirm"]', dialog).disabled = sending || !state.online;
}

/** Wire the sheet once; while open it follows every tick, whichever layout is on screen. */
export function initSheet() {
  dialog = $("#m-sheet");
  const input = $("#m-sheet-qty", dialog);
  input.addEventListener("input", () => { setError(null); refreshSheet(); });
  $('[data-sheet-action="cancel"]', dialog).addEventListener("click", () => dialog.close());
  $('[data-sheet-action="max"]', dialog).addEventListener("click", () => {
    input.value = fmt.plainQty(maxOrderQuantity(side, symbol));
    refreshSheet();
  });
  $("#m-sheet-form", dialog).addEventListener("submit", async (e) => {
    e.preventDefault();
    const q = input.value.trim();
    const problem = quantityProblem(q) || limitProblem(side, symbol, q);
    setError(problem);
    if (problem) { input.focus(); return; }
    sending = true;
    refreshSheet();
    try {
      const trade = await placeTrade(symbol, side, q, { onRefused: (text) => setError(text, "refused") });
      if (trade) dialog.close();
    } finally {
      sending = false;
      refreshSheet();
    }
  });
  on("tick", refreshSheet);
  on("connection", refreshSheet);
}
