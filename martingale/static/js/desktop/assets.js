// The desktop's asset table: price (flashing as it moves), change since listing, expiry, age.
import { h, $, setText, setTone, assetColor, flash } from "../dom.js";
import * as fmt from "../format.js";
import { state, sortedAssets, secondsLeft, changePct, ageSeconds, liveAccount } from "../state.js";

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
    const said = fmt.character(asset.drift, asset.volatility);
    const tendency = h("td", { class: "muted tendency", text: said.short, title: said.sentence });
    const expiry = h("td", { class: "num mono" });
    const age = h("td", { class: "num mono muted" });
    const interest = h("td", { class: "num mono muted" });
    const tr = h("tr", { class: "pickable", dataset: { symbol: asset.symbol } }, h("th", { scope: "row" }, pick), price, change, tendency, interest, expiry, age);
    // the whole row is the target; the symbol's button stays the keyboard's way in
    tr.addEventListener("click", (e) => { if (!e.target.closest("button")) onPick(asset.symbol); });
    assetColor(tr, asset.color);
    return { tr, price, change, interest, expiry, age, last: null };
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
    setText(row.interest, fmt.qty(asset.openInterest));
    renderCountdown(row.expiry, asset);
  }

  function applyFilter() {
    const needle = filter.value.trim().toUpperCase();
    for (const [symbol, row] of rows) row.tr.hidden = Boolean(needle) && !symbol.includes(needle);
  }

  filter.addEventListener("input", applyFilter);

  // The player's order, remembered; while the pointer is over the rows they do not move (a new
  // asset waits at the bottom), so a click lands on the row that was under it.
  const sort = $("#asset-sort", panel);
  sort.value = localStorage.getItem("martingale.assetSort") || "symbol";
  if (!sort.value) sort.value = "symbol";
  sort.addEventListener("change", () => { localStorage.setItem("martingale.assetSort", sort.value); arrange(); });
  let still = false;
  tbody.addEventListener("pointerenter", () => { still = true; });
  tbody.addEventListener("pointerleave", () => { still = false; arrange(); });

  function ordered() {
    const assets = sortedAssets();
    const held = new Map((liveAccount()?.positions || []).map((p) => [p.symbol, Number(p.marketValue)]));
    const by = {
      change: (a) => -changePct(a),
      expiry: (a) => a.expiresAt,
      holding: (a) => { const p = held.get(a.symbol); return p === undefined ? Infinity : -p; },
    }[sort.value];
    const cmp = (x, y) => (x[0] === y[0] ? 0 : x[0] < y[0] ? -1 : 1); // stable: ties stay alphabetical
    return by ? assets.map((a) => [by(a), a]).sort(cmp).map(([, a]) => a) : assets;
  }

  function arrange() {
    if (still) return;
    const want = ordered().map((a) => rows.get(a.symbol)?.tr).filter(Boolean);
    const have = [...tbody.children];
    if (want.length === have.length && want.every((tr, i) => tr === have[i])) return;
    tbody.append(...want);
  }

  return {
    /** Rows equal to the live assets, in the player's order. */
    render() {
      for (const [symbol, row] of rows) {
        if (!state.assets.has(symbol)) { row.tr.remove(); rows.delete(symbol); }
      }
      for (const asset of state.assets.values()) {
        if (!rows.has(asset.symbol)) { rows.set(asset.symbol, makeRow(asset)); tbody.append(rows.get(asset.symbol).tr); }
        update(asset);
      }
      arrange();
      $('[data-empty="assets"]', panel).hidden = state.assets.size > 0;
      applyFilter();
    },
    refresh() {
      for (const asset of state.assets.values()) update(asset);
      if (sort.value === "change" || sort.value === "holding") arrange();
    },
    /** Open interest moved with the tape's trades. */
    interest() {
      for (const [symbol, row] of rows) {
        const asset = state.assets.get(symbol);
        if (asset) setText(row.interest, fmt.qty(asset.openInterest));
      }
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
