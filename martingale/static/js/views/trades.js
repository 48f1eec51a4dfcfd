// Rows of trades: the player's own trades and settlements, and everyone's tape.
import { h, assetColor } from "../dom.js";
import * as fmt from "../format.js";
import { state, serverNow } from "../state.js";
import { proofHref } from "../shell.js";

const KIND = { buy: "Buy", sell: "Sell", settled: "Settled" };

function symTag(symbol) {
  return assetColor(h("span", { class: "sym", text: symbol }), state.assets.get(symbol)?.color);
}

function kindBadge(kind) {
  return h("span", { class: `side side-${kind}`, text: KIND[kind] || kind });
}

// a settled asset's seed is public: its proof page checks the price it settled at, and shares it
function proofLink(r) {
  return h("a", { class: "proof-link", href: proofHref(r.assetId), "aria-label": `Proof of ${r.symbol}`, text: "Proof" });
}

/** One own trade or settlement. brief: the short time and no total column (the phone). */
export function ownTradeRow(r, { brief = false } = {}) {
  const at = brief
    ? h("td", { class: "mono muted", text: fmt.shortTime(r.at) })
    : h("td", { class: "mono muted", title: fmt.stamp(r.at), text: fmt.when(r.at, serverNow()) });
  return h("tr", {},
    at,
    h("th", { scope: "row" }, symTag(r.symbol)),
    h("td", {}, kindBadge(r.kind), r.assetId ? proofLink(r) : null),
    h("td", { class: "num mono", text: fmt.qty(r.quantity) }),
    h("td", { class: "num mono", text: fmt.price(r.price) }),
    brief ? null : h("td", { class: "num mono", text: fmt.usd(r.total) }));
}

/** One public trade on the tape, the signed-in player's own marked. */
export function tapeRow(t) {
  if (t.kind === "settled") {  // the market's own line: an asset expired and settled
    return h("tr", { class: "market-line" },
      h("td", { class: "mono muted", text: fmt.time(Date.parse(t.executed_at)) }),
      h("td", { class: "name muted", text: "Market" }),
      h("th", { scope: "row" }, symTag(t.symbol)),
      h("td", {}, kindBadge("settled")),
      h("td", { class: "num mono muted", text: "—" }),
      h("td", { class: "num mono", text: fmt.price(t.price) }));
  }
  return h("tr", { class: t.display_name === state.displayName ? "mine" : "" },
    h("td", { class: "mono muted", text: fmt.time(Date.parse(t.executed_at)) }),
    h("td", { class: "name", text: t.display_name }),
    h("th", { scope: "row" }, symTag(t.symbol)),
    h("td", {}, kindBadge(t.side)),
    h("td", { class: "num mono", text: fmt.qty(t.quantity) }),
    h("td", { class: "num mono", text: fmt.price(t.price) }));
}
