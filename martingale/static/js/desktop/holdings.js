// The desktop's holdings table: a cash row, then each position at the latest price with its P&L.
import { h, fill, $, $$, setText, setTone, assetColor } from "../dom.js";
import * as fmt from "../format.js";
import { state, liveAccount } from "../state.js";
import { sellAll } from "../trade.js";
import { renderCountdown } from "./assets.js";

/** onPick(symbol) runs when a position's symbol is pressed. */
export function holdingsTable(table, { onPick }) {
  const tbody = $("tbody", table);

  function positionRow(p) {
    const color = state.assets.get(p.symbol)?.color;
    const tag = assetColor(h("button", { type: "button", class: "sym", text: p.symbol, title: `Trade ${p.symbol}`, onclick: () => onPick(p.symbol) }), color);
    return assetColor(h("tr", { dataset: { symbol: p.symbol } },
      h("th", { scope: "row" }, tag),
      h("td", { class: "num mono qty", text: fmt.qty(p.quantity) }),
      h("td", { class: "num mono avg", text: fmt.price(p.avg_cost) }),
      h("td", { class: "num mono live-price", text: fmt.price(p.price) }),
      h("td", { class: "num mono mv", text: fmt.usd(p.marketValue) }),
      h("td", { class: "num mono pnl" }),
      h("td", { class: "num mono expiry" }),
      h("td", { class: "actions" }, h("button", { type: "button", class: "ghost small", text: "Sell all", "aria-label": `Sell all ${p.symbol}`, onclick: () => sellAll(p.symbol) }))), color);
  }

  function cashRow(a) {
    const dash = () => h("td", { class: "num muted", text: "—" });
    return h("tr", { class: "cash-row" },
      h("th", { scope: "row" }, h("span", { class: "sym cash", text: "CASH" })),
      dash(), dash(), dash(), h("td", { class: "num mono", text: fmt.usd(a.cash) }), dash(), dash(), h("td"));
  }

  /** Rebuild the rows from the portfolio. */
  function render() {
    const a = liveAccount();
    fill(tbody, cashRow(a), a.positions.map(positionRow));
    refresh();
    countdowns();
  }

  /** Prices, market values and P&L at the latest prices. */
  function refresh() {
    const a = liveAccount();
    if (!a) return;
    setText($("tr.cash-row td:nth-child(5)", tbody), fmt.usd(a.cash));
    for (const p of a.positions) {
      const tr = $(`tr[data-symbol="${CSS.escape(p.symbol)}"]`, tbody);
      if (!tr) continue;
      setText($(".live-price", tr), fmt.price(p.price));
      setText($(".mv", tr), fmt.usd(p.marketValue));
      const cost = Number(p.cost_basis);
      const pnlPct = cost > 0 ? (Number(p.pnl) / 1e6 / cost) * 100 : 0;
      const pnl = $(".pnl", tr);
      setText(pnl, `${fmt.arrow(fmt.sign(p.pnl))} ${fmt.signedUsd(p.pnl)} (${fmt.pct(pnlPct)})`);
      setTone(pnl, fmt.sign(p.pnl));
    }
  }

  function countdowns() {
    for (const tr of $$("tr[data-symbol]", tbody)) {
      const asset = state.assets.get(tr.dataset.symbol);
      const cell = $(".expiry", tr);
      if (asset && cell) renderCountdown(cell, asset, " expiry");
    }
  }

  return { render, refresh, countdowns };
}
