// The phone's overview: every asset as a small tile (price, change, μ, σ, age, expiry), held ones ringed.
import { h, setText, setTone, assetColor } from "../dom.js";
import * as fmt from "../format.js";
import { state, sortedAssets, secondsLeft, changePct, liveAccount, stats, ageSeconds } from "../state.js";

/** onPick(symbol) runs when a tile's symbol is pressed. */
export function overviewTiles(box, { onPick }) {
  const tiles = new Map(); // symbol -> tile parts

  function makeTile(asset) {
    const p = {
      btn: h("button", { type: "button", class: "sym", text: asset.symbol, onclick: () => onPick(asset.symbol) }),
      price: h("span", { class: "mono o-price" }),
      change: h("span", { class: "mono o-change" }),
      mu: h("dd", { class: "mono" }), sigma: h("dd", { class: "mono" }), n: h("dd", { class: "mono" }),
      expiry: h("span", { class: "mono" }),
    };
    assetColor(p.btn, asset.color);
    const el = h("div", { class: "o-tile", dataset: { symbol: asset.symbol } },
      h("div", { class: "o-head" }, p.btn, p.expiry),
      h("div", { class: "o-quote" }, p.price, p.change),
      h("dl", { class: "o-stats" },
        h("div", {}, h("dt", { text: "μ" }), p.mu),
        h("div", {}, h("dt", { text: "σ" }), p.sigma),
        h("div", {}, h("dt", { text: "age" }), p.n)));
    assetColor(el, asset.color);
    // a tap anywhere on the tile picks it, not only on its small symbol chip
    el.classList.add("pickable");
    el.addEventListener("click", (e) => { if (!e.target.closest("button")) onPick(asset.symbol); });
    return { el, ...p };
  }

  function update(asset) {
    const t = tiles.get(asset.symbol);
    if (!t) return;
    setText(t.price, fmt.price(asset.price));
    const ch = changePct(asset);
    setText(t.change, `${fmt.arrow(fmt.pctSign(ch))} ${fmt.pct(ch)}`);
    setTone(t.change, fmt.pctSign(ch));
    const s = stats(asset);
    setText(t.mu, fmt.pct(s.mu, 2));
    setTone(t.mu, Math.sign(s.mu) || -1);
    setText(t.sigma, Number.isFinite(s.sigma) ? `${s.sigma.toFixed(2)}%` : "—");
    t.sigma.className = `mono ${!Number.isFinite(s.sigma) ? "" : s.sigma < 3 ? "up" : s.sigma < 6 ? "warn" : "down"}`;
    setText(t.n, fmt.duration(ageSeconds(asset)));
    const left = secondsLeft(asset);
    setText(t.expiry, fmt.countdown(left));
    t.expiry.setAttribute("aria-label", `expires in ${fmt.countdown(left)}`);
    t.expiry.className = `mono ${fmt.urgency(left)}`;
    const pos = liveAccount()?.positions.find((x) => x.symbol === asset.symbol);
    t.el.classList.toggle("held", Boolean(pos));
    t.el.classList.toggle("held-up", Boolean(pos) && pos.pnl > 0n);
    t.el.classList.toggle("held-down", Boolean(pos) && pos.pnl < 0n);
  }

  return {
    /** Tiles equal to the live assets, in alphabetical order. */
    render() {
      for (const [symbol, t] of tiles) {
        if (!state.assets.has(symbol)) { t.el.remove(); tiles.delete(symbol); }
      }
      for (const asset of sortedAssets()) {
        if (!tiles.has(asset.symbol)) tiles.set(asset.symbol, makeTile(asset));
        box.append(tiles.get(asset.symbol).el);
        update(asset);
      }
    },
    refresh() {
      for (const asset of state.assets.values()) update(asset);
    },
  };
}
