// The desktop trade form: symbol (kept in step with the live assets), side, a size in units or
// (buys) dollars with 25/50/100% shares, the slippage tolerance, estimates.
import { $, h, fill, setText } from "../dom.js";
import * as fmt from "../format.js";
import { atoms, USD } from "../decimal.js";
import { state, holding } from "../state.js";
import { placeTrade } from "../trade.js";
import {
  maxOrderQuantity, ticketFigures, shareOf, tolerance, setTolerance, toleranceText,
} from "../order.js";
import { confirmSellEverything } from "../confirm.js";

export function tradeForm(form) {
  const symbol = $("#trade-symbol", form);
  const quantity = $("#trade-qty", form);
  const error = $("#trade-qty-error", form);
  const out = (name) => $(`[data-trade="${name}"]`, form);
  let busy = false;

  const slippage = $("#trade-slippage", form);
  const side = () => form.querySelector('input[name="side"]:checked').value;
  const setSide = (s) => { form.querySelector(`input[name="side"][value="${s}"]`).checked = true; };
  // dollars size buys only: a sell is in units (all of a holding is its exact quantity)
  const inDollars = () => side() === "buy" && form.querySelector('input[name="unit"]:checked').value === "dollars";
  const setUnit = (u) => { form.querySelector(`input[name="unit"][value="${u}"]`).checked = true; };
  slippage.value = tolerance();

  function showError(message, kind = "input") {
    error.dataset.kind = message ? kind : "";
    error.hidden = !message;
    setText(error, message || "");
    quantity.toggleAttribute("aria-invalid", Boolean(message));
  }

  function refresh() {
    const asset = state.assets.get(symbol.value);
    const held = holding(symbol.value);
    const cash = state.portfolio?.cash ?? "0";
    const dollars = inDollars();
    const { limit, worth, units } = ticketFigures(side(), symbol.value, dollars, quantity.value);
    if (limit || error.dataset.kind === "limit") showError(limit, "limit");
    form.querySelector('input[name="unit"][value="dollars"]').disabled = side() !== "buy";
    if (side() !== "buy") setUnit("units");
    setText(out("size-label"), dollars ? "Amount ($)" : "Quantity");
    quantity.placeholder = dollars ? "250" : "0.5";
    setText(out("size-help"), dollars
      ? "Dollars to spend, up to 6 decimal places: the order buys as many units as that pays for at the price it meets."
      : "Fractions allowed, up to 8 decimal places. Max spends all your cash (in dollars), or sells all you hold.");
    setText(out("tolerance"), toleranceText(side(), symbol.value, slippage.value));
    setText(out("price"), asset ? fmt.price(asset.price) : "—");
    setText(out("character"), asset ? fmt.character(asset.drift, asset.volatility).sentence : "");
    setText(out("held"), held ? fmt.qty(held.quantity) : "0");
    setText(out("cash"), fmt.usd(cash));
    setText(out("est-label"), dollars ? "Buys about" : side() === "buy" ? "Estimated cost" : "Estimated proceeds");
    setText(out("estimate"), dollars
      ? (units === null ? "—" : `${fmt.qty(units)} ${symbol.value}`)
      : (worth === null ? "—" : fmt.usd(worth)));
    setText(out("max"), fmt.qty(maxOrderQuantity(side(), symbol.value)));
    form.classList.toggle("over-budget", side() === "buy" && worth !== null && worth > atoms(cash, USD));
    const off = busy || !state.online;
    for (const b of form.querySelectorAll("button")) b.disabled = off;
    form.querySelector('[data-side="sell"]').disabled = off || !held;
    form.querySelector("#sell-everything").disabled = off || !(state.portfolio?.holdings.length);
  }

  async function submit(s) {
    const q = quantity.value.trim();
    const dollars = inDollars();
    const { problem: bad, limit } = ticketFigures(s, symbol.value, dollars, q);
    const problem = bad || limit;
    showError(problem);
    if (problem || !symbol.value) { quantity.focus(); return; }
    busy = true;
    refresh();
    try {
      const trade = await placeTrade(symbol.value, s, dollars ? { amount: q } : q, {
        onRefused: (text) => showError(text, "refused"), tolerate: slippage.value,
      });
      if (trade) quantity.value = "";
    } finally {
      busy = false;
      refresh();
    }
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const s = e.submitter?.dataset.side || side();
    setSide(s);
    submit(s);
  });
  quantity.addEventListener("input", () => { showError(null); refresh(); });
  // Enter sends the side chosen above (an implicit submit would always press the first button)
  quantity.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); submit(side()); } });
  symbol.addEventListener("change", refresh);
  form.addEventListener("change", (e) => {
    if (e.target.name === "unit") { quantity.value = ""; showError(null); }
    if (e.target.name === "side" || e.target.name === "unit") refresh();
  });
  slippage.addEventListener("change", () => { setTolerance(slippage.value); refresh(); });
  // a buy spends a share of the cash, in dollars: the price the order meets sizes it, not the
  // one on screen (Max in units left cash over when the price fell, and was refused when it rose)
  function share(pct) {
    setUnit(side() === "buy" ? "dollars" : "units");
    quantity.value = shareOf(side(), symbol.value, pct);
    showError(null);
    refresh();
  }
  $("#trade-max", form).addEventListener("click", () => share(100));
  for (const button of form.querySelectorAll("[data-pct]")) {
    button.addEventListener("click", () => share(button.dataset.pct));
  }
  $("#sell-everything", form).addEventListener("click", confirmSellEverything);

  return {
    refresh,
    /** Keep the options equal to the live symbols; the choice survives if still live. */
    setSymbols(symbols) {
      const current = symbol.value;
      fill(symbol, symbols.map((s) => h("option", { value: s, text: s })));
      if (symbols.includes(current)) symbol.value = current;
      else if (current) {
        // the chosen asset expired: start over on the buy side rather than sell another asset,
        // on the one with the most time left (the first by name may be the next to go)
        const live = symbols.map((s) => state.assets.get(s)).filter(Boolean);
        if (live.length) symbol.value = live.reduce((a, b) => (b.expiresAt > a.expiresAt ? b : a)).symbol;
        setSide("buy");
        quantity.value = "";
        showError(`${current} expired. Choose another asset.`, "notice");
      }
      refresh();
    },
    select(s, withSide) {
      symbol.value = s;
      if (withSide) setSide(withSide);
      if (withSide === "sell") quantity.value = holding(s) ? fmt.plainQty(holding(s).quantity) : "";
      else if (withSide && inDollars()) quantity.value = "";
      symbol.dispatchEvent(new Event("change")); // refreshes, and the board marks the row
      quantity.focus();
    },
  };
}
