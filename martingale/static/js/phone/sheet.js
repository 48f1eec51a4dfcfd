// The phone's buy/sell sheet: price, cash or holding, max quantity, a size in units or (buys)
// dollars with 25/50/100% shares, the slippage tolerance and a live estimate.
import { $, setText } from "../dom.js";
import * as fmt from "../format.js";
import { state, on, holding } from "../state.js";
import { placeTrade } from "../trade.js";
import {
  maxOrderQuantity, ticketFigures, shareOf, tolerance, setTolerance, toleranceText,
} from "../order.js";

let dialog;
let side = "buy";
let symbol = null;
let sending = false;

function el(name) { return $(`[data-sheet="${name}"]`, dialog); }

// dollars size buys only: a sell is in units (all of a holding is its exact quantity)
function inDollars() {
  return side === "buy" && dialog.querySelector('input[name="m-unit"]:checked').value === "dollars";
}
function setUnit(u) { dialog.querySelector(`input[name="m-unit"][value="${u}"]`).checked = true; }

export function openSheet(newSide, newSymbol) {
  side = newSide;
  symbol = newSymbol;
  const input = $("#m-sheet-qty", dialog);
  const held = holding(symbol);
  input.value = side === "sell" && held ? fmt.plainQty(held.quantity) : "";
  if (side !== "buy") setUnit("units");
  $("#m-sheet-slippage", dialog).value = tolerance();
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
  const dollars = inDollars();
  const input = $("#m-sheet-qty", dialog);
  const { limit, worth, units } = ticketFigures(side, symbol, dollars, input.value);
  const error = $("#m-sheet-error", dialog);
  el("unit-toggle").hidden = side !== "buy";
  setText(el("size-label"), dollars ? "Amount ($)" : "Quantity");
  input.placeholder = dollars ? "250" : "0.5";
  setText(el("tolerance"), toleranceText(side, symbol, $("#m-sheet-slippage", dialog).value));
  if (limit || error.dataset.kind === "limit") setError(limit, "limit");
  setText(el("price"), asset ? fmt.price(asset.price) : "expired");
  setText(el("have-label"), side === "buy" ? "Available cash" : "You hold");
  setText(el("have"), side === "buy" ? fmt.usd(state.portfolio?.cash ?? "0") : fmt.qty(held?.quantity ?? "0"));
  setText(el("max"), fmt.qty(maxOrderQuantity(side, symbol)));
  setText(el("est-label"), dollars ? "Buys about" : side === "buy" ? "Estimated cost" : "Estimated proceeds");
  setText(el("estimate"), dollars
    ? (units === null ? "—" : `${fmt.qty(units)} ${symbol}`)
    : (worth === null ? "—" : fmt.usd(worth)));
  $('[data-sheet-action="confirm"]', dialog).disabled = sending || !state.online;
  for (const b of dialog.querySelectorAll("[data-pct]")) b.disabled = sending || !state.online;
}

/** Wire the sheet once; while open it follows every tick, whichever layout is on screen. */
export function initSheet() {
  dialog = $("#m-sheet");
  const input = $("#m-sheet-qty", dialog);
  input.addEventListener("input", () => { setError(null); refreshSheet(); });
  $('[data-sheet-action="cancel"]', dialog).addEventListener("click", () => dialog.close());
  // a buy spends a share of the cash, in dollars: the price the order meets sizes it, not the
  // one on screen (Max in units left cash over when the price fell, and was refused when it rose)
  function share(pct) {
    setUnit(side === "buy" ? "dollars" : "units");
    input.value = shareOf(side, symbol, pct);
    setError(null);
    refreshSheet();
  }
  $('[data-sheet-action="max"]', dialog).addEventListener("click", () => share(100));
  for (const button of dialog.querySelectorAll("[data-pct]")) {
    button.addEventListener("click", () => share(button.dataset.pct));
  }
  dialog.addEventListener("change", (e) => {
    if (e.target.name === "m-unit") { input.value = ""; setError(null); refreshSheet(); }
  });
  $("#m-sheet-slippage", dialog).addEventListener("change", (e) => { setTolerance(e.target.value); refreshSheet(); });
  $("#m-sheet-form", dialog).addEventListener("submit", async (e) => {
    e.preventDefault();
    const q = input.value.trim();
    const dollars = inDollars();
    const { problem: bad, limit } = ticketFigures(side, symbol, dollars, q);
    const problem = bad || limit;
    setError(problem);
    if (problem) { input.focus(); return; }
    sending = true;
    refreshSheet();
    try {
      const trade = await placeTrade(symbol, side, dollars ? { amount: q } : q, {
        onRefused: (text) => setError(text, "refused"), tolerate: $("#m-sheet-slippage", dialog).value,
      });
      if (trade) dialog.close();
    } finally {
      sending = false;
      refreshSheet();
    }
  });
  on("tick", refreshSheet);
  on("connection", refreshSheet);
}
