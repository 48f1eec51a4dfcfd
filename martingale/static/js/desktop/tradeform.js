// The desktop trade form: symbol (kept in step with the live assets), side, quantity, estimates.
import { $, h, fill, setText } from "../dom.js";
import * as fmt from "../format.js";
import { atoms, USD } from "../decimal.js";
import { state, holding } from "../state.js";
import { placeTrade } from "../trade.js";
import { quantityProblem, limitProblem, maxOrderQuantity, orderValue } from "../order.js";
import { confirmSellEverything } from "../confirm.js";

export function tradeForm(form) {
  const symbol = $("#trade-symbol", form);
  const quantity = $("#trade-qty", form);
  const error = $("#trade-qty-error", form);
  const out = (name) => $(`[data-trade="${name}"]`, form);
  let busy = false;

  const side = () => form.querySelector('input[name="side"]:checked').value;
  const setSide = (s) => { form.querySelector(`input[name="side"][value="${s}"]`).checked = true; };

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
    const limit = limitProblem(side(), symbol.value, quantity.value.trim());
    const worth = limit ? null : orderValue(symbol.value, quantity.value.trim());
    if (limit || error.dataset.kind === "limit") showError(limit, "limit");
    setText(out("price"), asset ? fmt.price(asset.price) : "—");
    setText(out("character"), asset ? fmt.character(asset.drift, asset.volatility).sentence : "");
    setText(out("held"), held ? fmt.qty(held.quantity) : "0");
    setText(out("cash"), fmt.usd(cash));
    setText(out("est-label"), side() === "buy" ? "Estimated cost" : "Estimated proceeds");
    setText(out("estimate"), worth === null ? "—" : fmt.usd(worth));
    setText(out("max"), fmt.qty(maxOrderQuantity(side(), symbol.value)));
    form.classList.toggle("over-budget", side() === "buy" && worth !== null && worth > atoms(cash, USD));
    const off = busy || !state.online;
    for (const b of form.querySelectorAll("button")) b.disabled = off;
    form.querySelector('[data-side="sell"]').disabled = off || !held;
    form.querySelector("#sell-everything").disabled = off || !(state.portfolio?.holdings.length);
  }

  async function submit(s) {
    const q = quantity.value.trim();
    const problem = quantityProblem(q) || limitProblem(s, symbol.value, q);
    showError(problem);
    if (problem || !symbol.value) { quantity.focus(); return; }
    busy = true;
    refresh();
    try {
      const trade = await placeTrade(symbol.value, s, q, { onRefused: (text) => showError(text, "refused") });
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
  form.addEventListener("change", (e) => { if (e.target.name === "side") refresh(); });
  $("#trade-max", form).addEventListener("click", () => {
    quantity.value = fmt.plainQty(maxOrderQuantity(side(), symbol.value));
    showError(null);
    refresh();
  });
  $("#sell-everything", form).addEventListener("click", confirmSellEverything);

  return {
    refresh,
    /** Keep the options equal to the live symbols; the choice survives if still live. */
    setSymbols(symbols) {
      const current = symbol.value;
      fill(symbol, symbols.map((s) => h("option", { value: s, text: s })));
      if (symbols.includes(current)) symbol.value = current;
      else if (current) {
        // the chosen asset expired: start over on the buy side rather than sell another asset
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
      symbol.dispatchEvent(new Event("change")); // refreshes, and the board marks the row
      quantity.focus();
    },
  };
}
