// The desktop's asset table: price (flashing as it moves), change since listing, expiry, age.
import { h, $, setText, setTone, assetColor, flash } from "../dom.js";
import * as fmt from "../format.js";
import { state, sortedAssets, secondsLeft, changePct, ageSeconds } from "../state.js";

/** onPick(symbol) runs when a symbol is pressed. */
export function assetTable(panel, { onPick }) {
  const tbody = $("#asset-table tbody", panel);
  const filter = $("#asset-filter", panel);
  const rows = new Map(); // symbol -> row parts

  function makeRow(asset) {
    const pick = assetColor(h("button", { type: "button", class: "sym", title: `Trade ${asset.symbol}`, text: asset.symbol,
      onclick: () => onPick(asset.symbol) }), asset.color);
    const price = h("td", { class: "num mono price" });
    const change = h("td", { class: "num mono" });
    const expiry = h("td", { class: "num mono" });
    const age = h("td", { class: "num mono muted" });
    const tr = h("tr", { class: "pickable", dataset: { symbol: asset.symbol } }, h("th", { scope: "row" }, pick), price, change, expiry, age);
    // the whole row is the target; the symbol's button stays the keyboard's way in
    tr.addEventListener("click", (e) => { if (!e.target.closest("button")) onPick(asset.symbol); });
    assetColor(tr, asset.color);
    return { tr, price, change, expiry, age, last: null };
  }

  function update(asset) {
    const row = rows.get(asset.symbol);
    if (!row) return;
    if (row.last !== asset.price) {
      setText(row.price, fmt.price(asset.price));
      if (row.last !== null) flash(row.price, Math.sign(Number(asset.price) - Number(row.last)));
      row.last = asset.price;
    }
    const ch = changePct(asset);
    setText(row.change, `${fmt.arrow(fmt.pctSign(ch))} ${fmt.pct(ch)}`);
    setTone(row.change, fmt.pctSign(ch));
    row.change.setAttribute("aria-label", `${ch >= 0 ? "up" : "down"} ${Math.abs(ch).toFixed(2)} percent since listing`);
    setText(row.age, fmt.duration(ageSeconds(asset)));
    renderCountdown(row.expiry, asset);
  }

  function applyFilter() {
    const needle = filter.value.trim().toUpperCase();
    for (const [symbol, row] of rows) row.tr.hidden = Boolean(needle) && !symbol.includes(needle);
  }

  filter.addEventListener("input", applyFilter);

  return {
    /** Rows equal to the live assets, in alphabetical order. */
    render() {
      for (const [symbol, row] of rows) {
        if (!state.assets.has(symbol)) { row.tr.remove(); rows.delete(symbol); }
      }
      const assets = sortedAssets();
      for (const asset of assets) {
        if (!rows.has(asset.symbol)) rows.set(asset.symbol, makeRow(asset));
        tbody.append(rows.get(asset.symbol).tr);
        update(asset);
      }
      $('[data-empty="assets"]', panel).hidden = assets.length > 0;
      applyFilter();
    },
    refresh() {
      for (const asset of state.assets.values()) update(asset);
    },
    countdowns() {
      for (const [symbol, row] of rows) {
        const asset = state.assets.get(symbol);
        if (asset) renderCountdown(row.expiry, asset);
      }
    },
  };
}

/** A countdown cell: its text and urgency colour. */
export function renderCountdown(el, asset, extraClass = "") {
  const left = secondsLeft(asset);
  setText(el, fmt.countdown(left));
  el.className = `num mono ${fmt.urgency(left)}${extraClass}`;
}
