// The phone's asset cards, one screen each, snapped as they scroll; the one in view is "current".
import { h, $, setText, setTone, assetColor } from "../dom.js";
import * as fmt from "../format.js";
import { state, sortedAssets, secondsLeft, changePct, liveAccount, holding, stats, ageSeconds } from "../state.js";
import { lineChart } from "../charts.js";
import { drawAssets, rangePicker } from "../assetcharts.js";

/** onCurrent() runs when another card becomes the current one; onGone(symbol, next) when the
 *  current card's asset expired and another took its place. */
export function assetCards(box, { onCurrent, onGone = () => {} }) {
  const cards = new Map(); // symbol -> {el, parts..., chart, visible, last}
  let current = null;
  let landing = null; // the card a jump is scrolling to: cards it passes on the way are not current
  const observer = new IntersectionObserver(onVisible, { root: box, threshold: [0, 0.6] });

  function makeCard(asset) {
    const p = {
      sym: h("h2", { class: "m-sym", text: asset.symbol }),
      stats: h("p", { class: "m-stats-line mono" }),
      price: h("p", { class: "m-price mono" }),
      change: h("p", { class: "m-change mono" }),
      expiry: h("p", { class: "m-expiry mono" }),
      position: h("p", { class: "m-position mono" }),
      interest: h("p", { class: "m-interest muted", title: "Units of the asset all players hold together now" }),
      character: h("p", { class: "m-character", text: fmt.character(asset.drift, asset.volatility).sentence }),
      canvas: h("canvas", { role: "img", "aria-label": `${asset.symbol} price chart` }),
    };
    const el = h("article", { class: "m-card", "aria-label": asset.symbol, dataset: { symbol: asset.symbol } },
      h("header", { class: "m-card-head" }, p.sym, p.stats),
      h("div", { class: "m-quote" }, p.price, h("div", { class: "m-sub" }, p.change, p.expiry)),
      p.character,
      p.interest,
      p.position,
      h("div", { class: "m-chart-head" }, rangePicker(() => { for (const x of cards.values()) if (x.visible) drawChart(x); })),
      h("div", { class: "chart-box m-chart" }, p.canvas));
    assetColor(el, asset.color);
    return { el, ...p, chart: null, visible: false, last: null };
  }

  function update(asset) {
    const c = cards.get(asset.symbol);
    if (!c) return;
    const dir = c.last === null ? 0 : Math.sign(Number(asset.price) - Number(c.last));
    setText(c.price, fmt.price(asset.price));
    if (dir) setTone(c.price, dir);
    c.last = asset.price;
    const ch = changePct(asset);
    setText(c.change, `${fmt.arrow(fmt.pctSign(ch))} ${fmt.pct(ch)}`);
    setTone(c.change, fmt.pctSign(ch));
    const s = stats(asset);
    setText(c.stats, `μ ${fmt.pct(s.mu, 2)} · σ ${Number.isFinite(s.sigma) ? s.sigma.toFixed(2) + "%" : "—"} · age ${fmt.duration(ageSeconds(asset))}`);
    const held = holding(asset.symbol);
    if (held) {
      const pos = liveAccount().positions.find((x) => x.symbol === asset.symbol);
      // no line break inside "P&L ▼ −$3.40" (a narrow phone broke it after the minus sign)
      const pnl = `${fmt.arrow(fmt.sign(pos.pnl))}\u00a0${fmt.signedUsd(pos.pnl).replace(/^([−+])/, "$1\u2060")}`;
      setText(c.position, `Position ${fmt.qty(held.quantity)} · avg ${fmt.price(held.avg_cost)} · P&L\u00a0${pnl}`);
      setTone(c.position, fmt.sign(pos.pnl));
    } else {
      setText(c.position, "No position");
      setTone(c.position, 0);
    }
    c.el.classList.toggle("held", Boolean(held));
    renderInterest(c, asset);
    renderCountdown(c, asset);
  }

  function renderInterest(c, asset) {
    const units = fmt.qty(asset.openInterest);
    setText(c.interest, `Open interest ${units} unit${units === "1" ? "" : "s"}, all players together`);
  }

  function renderCountdown(c, asset) {
    const left = secondsLeft(asset);
    setText(c.expiry, left > 0 ? `Expires in ${fmt.countdown(left)}` : "Expired");
    c.expiry.className = `m-expiry mono ${fmt.urgency(left)}`;
  }

  // a chart is made and drawn only for a card in view
  function drawChart(c) {
    const asset = state.assets.get(c.el.dataset.symbol);
    if (!asset) return;
    if (!c.chart) c.chart = lineChart(c.canvas, { compact: true });
    drawAssets(c.chart, [asset], { compact: true });
  }

  function onVisible(entries) {
    for (const e of entries) {
      const c = cards.get(e.target.dataset.symbol);
      if (!c) continue;
      c.visible = e.isIntersecting;
      if (c.visible) drawChart(c);
      if (e.intersectionRatio >= 0.6 && !landing) { current = c.el.dataset.symbol; onCurrent(); }
    }
  }

  function scrollTo(symbol, smooth = true) {
    const c = cards.get(symbol);
    if (!c) return;
    current = symbol;
    const top = c.el.offsetTop - box.offsetTop;
    landing = smooth && Math.abs(box.scrollTop - top) > 1 ? symbol : null;
    if (landing) setTimeout(() => { if (landing === symbol) landing = null; }, 1500); // no scrollend (older WebKit)
    box.scrollTo({ top, behavior: smooth ? "smooth" : "auto" });
    onCurrent();
  }

  // the jump is over when scrolling stops, or when the player's finger takes over
  box.addEventListener("scrollend", () => { landing = null; });
  for (const name of ["touchstart", "wheel", "keydown"]) box.addEventListener(name, () => { landing = null; }, { passive: true });

  box.addEventListener("keydown", (e) => {
    const step = { ArrowDown: 1, PageDown: 1, ArrowUp: -1, PageUp: -1 }[e.key];
    if (step === undefined) return;
    e.preventDefault();
    const list = sortedAssets().map((a) => a.symbol);
    const j = Math.max(0, Math.min(list.length - 1, list.indexOf(current) + step));
    scrollTo(list[j]);
  });

  return {
    current: () => current,
    scrollTo,
    /** Cards equal to the live assets, in alphabetical order; the current one stays if live. */
    render() {
      const before = [...box.children].map((el) => el.dataset.symbol); // on screen, top to bottom
      for (const [symbol, c] of cards) {
        if (!state.assets.has(symbol)) { observer.unobserve(c.el); c.chart?.destroy(); c.el.remove(); cards.delete(symbol); }
      }
      for (const asset of sortedAssets()) {
        if (!cards.has(asset.symbol)) { const c = makeCard(asset); cards.set(asset.symbol, c); observer.observe(c.el); }
        box.append(cards.get(asset.symbol).el);
        update(asset);
      }
      if (!current || !state.assets.has(current)) {
        // the card that slid into the gone card's place is the one on screen: it is current,
        // and the scroll is set on it, so Buy never names a card the player cannot see
        const gone = current;
        const list = sortedAssets().map((a) => a.symbol);
        current = gone
          ? (before.slice(before.indexOf(gone) + 1).find((s) => state.assets.has(s)) ?? list[list.length - 1] ?? null)
          : (list[0] ?? null);
        if (gone && current) scrollTo(current, false);
        if (gone) onGone(gone, current);
      } else if (!landing && before.length && before.join() !== [...box.children].map((el) => el.dataset.symbol).join()) {
        // a card born or gone above the one on screen shifted it: hold the player's card in view
        scrollTo(current, false);
      }
      onCurrent();
    },
    /** Figures of every card, charts of those in view. */
    /** Open interest moved with the tape's trades. */
    interest() {
      for (const [symbol, c] of cards) {
        const asset = state.assets.get(symbol);
        if (asset) renderInterest(c, asset);
      }
    },
    refresh() {
      for (const asset of state.assets.values()) update(asset);
      for (const c of cards.values()) if (c.visible) drawChart(c);
    },
    countdowns() {
      for (const [symbol, c] of cards) {
        const asset = state.assets.get(symbol);
        if (asset) renderCountdown(c, asset);
      }
    },
  };
}
