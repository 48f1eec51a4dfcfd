// The phone layout (<= 768px): swipe cards, overview grid, buy/sell sheet, tabs.
import { h, fill, $, $$, setText, setTone, assetColor, isPhone } from "./dom.js";
import * as fmt from "./format.js";
import { state, on, sortedAssets, secondsLeft, changePct, liveAccount, holding, stats } from "./state.js";
import { lineChart, series, avgCostSeries, doughnut, setAllocation } from "./charts.js";
import { sellAll } from "./trade.js";
import { confirmSellEverything } from "./confirm.js";
import { openSheet, refreshSheet } from "./sheet.js";

let root;
let cardsBox;
let overview;
const cards = new Map(); // symbol -> {el, parts..., chart, visible}
const tiles = new Map(); // symbol -> overview tile parts
let current = null; // symbol of the card in view
let observer;
let allocChart = null;
let pvChart = null;

export function init(app) {
  root = $(".phone", app);
  cardsBox = $("#m-cards", root);
  overview = $("#m-overview", root);
  observer = new IntersectionObserver(onVisible, { root: cardsBox, threshold: [0, 0.6] });
  allocChart = doughnut($("#m-alloc-chart", root));
  pvChart = lineChart($("#m-pv-chart", root), { kind: "usd", compact: true });
  if (pvChart) pvChart.data.datasets = [series("Portfolio value", "#4c9dff", [], { fill: "start", backgroundColor: "rgba(76,157,255,0.12)" })];

  wireTabs();
  wireSearch();
  wireActions();
  cardsBox.addEventListener("keydown", onCardKeys);
  $("#m-overview-toggle", root).addEventListener("click", () => toggleOverview());
  $('[data-action="sell-everything"]', root).addEventListener("click", confirmSellEverything);

  on("assets", renderAssets);
  on("tick", onTick);
  on("second", renderCountdowns);
  on("portfolio", renderPortfolio);
  on("own", renderHistory);
  on("leaders", renderLeaders);
  on("performance", () => { if (pvChart) { pvChart.data.datasets[0].data = state.performance; if (isPhone()) pvChart.update("none"); } });
  on("connection", (live) => { root.classList.toggle("offline", !live); setText($('[data-role="conn-m"]', root), live ? "Live" : "Reconnecting"); });
  on("layout", () => { if (isPhone()) { renderAll(); } });
}

function renderAll() {
  for (const c of cards.values()) if (c.visible) updateCardChart(c);
  renderPortfolio();
  pvChart?.update("none");
}

// -- cards -------------------------------------------------------------------------------------
function renderAssets() {
  for (const [symbol, c] of cards) {
    if (!state.assets.has(symbol)) { observer.unobserve(c.el); c.chart?.destroy(); c.el.remove(); cards.delete(symbol); tiles.get(symbol)?.el.remove(); tiles.delete(symbol); }
  }
  for (const asset of sortedAssets()) {
    if (!cards.has(asset.symbol)) { const c = makeCard(asset); cards.set(asset.symbol, c); observer.observe(c.el); }
    if (!tiles.has(asset.symbol)) tiles.set(asset.symbol, makeTile(asset));
    cardsBox.append(cards.get(asset.symbol).el);
    overview.append(tiles.get(asset.symbol).el);
    updateCard(asset);
    updateTile(asset);
  }
  if (!current || !state.assets.has(current)) current = sortedAssets()[0]?.symbol ?? null;
  renderActions();
}

function makeCard(asset) {
  const p = {
    sym: h("h2", { class: "m-sym", text: asset.symbol }),
    stats: h("p", { class: "m-stats-line mono" }),
    price: h("p", { class: "m-price mono" }),
    change: h("p", { class: "m-change mono" }),
    expiry: h("p", { class: "m-expiry mono" }),
    position: h("p", { class: "m-position mono" }),
    canvas: h("canvas", { role: "img", "aria-label": `${asset.symbol} price chart` }),
  };
  const el = h("article", { class: "m-card", "aria-label": asset.symbol, dataset: { symbol: asset.symbol } },
    h("header", { class: "m-card-head" }, p.sym, p.stats),
    h("div", { class: "m-quote" }, p.price, h("div", { class: "m-sub" }, p.change, p.expiry)),
    p.position,
    h("div", { class: "chart-box m-chart" }, p.canvas));
  assetColor(el, asset.color);
  return { el, ...p, chart: null, visible: false, last: null };
}

function updateCard(asset) {
  const c = cards.get(asset.symbol);
  if (!c) return;
  const dir = c.last === null ? 0 : Math.sign(Number(asset.price) - Number(c.last));
  setText(c.price, fmt.price(asset.price));
  if (dir) setTone(c.price, dir);
  c.last = asset.price;
  const ch = changePct(asset);
  setText(c.change, `${fmt.arrow(Math.sign(ch))} ${fmt.pct(ch)}`);
  setTone(c.change, Math.sign(ch));
  const s = stats(asset);
  setText(c.stats, `μ ${fmt.pct(s.mu, 2)} · σ ${Number.isFinite(s.sigma) ? s.sigma.toFixed(2) + "%" : "—"} · n ${s.n}`);
  const held = holding(asset.symbol);
  if (held) {
    const pos = liveAccount().positions.find((x) => x.symbol === asset.symbol);
    setText(c.position, `Position ${fmt.qty(held.quantity)} · avg ${fmt.price(held.avg_cost)} · P&L ${fmt.arrow(fmt.sign(pos.pnl))} ${fmt.signedUsd(pos.pnl)}`);
    setTone(c.position, fmt.sign(pos.pnl));
  } else {
    setText(c.position, "No position");
    setTone(c.position, 0);
  }
  c.el.classList.toggle("held", Boolean(held));
  renderCardCountdown(c, asset);
}

function renderCardCountdown(c, asset) {
  const left = secondsLeft(asset);
  setText(c.expiry, left > 0 ? `Expires in ${fmt.countdown(left)}` : "Expired");
  c.expiry.className = `m-expiry mono ${fmt.urgency(left)}`;
}

function updateCardChart(c) {
  const asset = state.assets.get(c.el.dataset.symbol);
  if (!asset || !isPhone()) return;
  if (!c.chart) c.chart = lineChart(c.canvas, { compact: true });
  if (!c.chart) return;
  const data = asset.history.slice();
  const sets = [series(asset.symbol, asset.color, data, { fill: "start", backgroundColor: `${asset.color}22` })];
  const avg = avgCostSeries(holding(asset.symbol)?.avg_cost, data);
  if (avg) sets.push(avg);
  c.chart.data.datasets = sets;
  c.chart.options.plugins.legend.display = Boolean(avg);
  c.chart.update("none");
}

function onVisible(entries) {
  for (const e of entries) {
    const c = cards.get(e.target.dataset.symbol);
    if (!c) continue;
    c.visible = e.isIntersecting;
    if (c.visible) updateCardChart(c);
    if (e.intersectionRatio >= 0.6) { current = c.el.dataset.symbol; renderActions(); refreshSheet(); }
  }
}

function scrollToSymbol(symbol, smooth = true) {
  const c = cards.get(symbol);
  if (!c) return;
  current = symbol;
  cardsBox.scrollTo({ top: c.el.offsetTop - cardsBox.offsetTop, behavior: smooth ? "smooth" : "auto" });
  renderActions();
}

function onCardKeys(e) {
  const list = sortedAssets().map((a) => a.symbol);
  const i = list.indexOf(current);
  const next = { ArrowDown: 1, PageDown: 1, ArrowUp: -1, PageUp: -1 }[e.key];
  if (next === undefined) return;
  e.preventDefault();
  const j = Math.max(0, Math.min(list.length - 1, i + next));
  scrollToSymbol(list[j]);
}

// -- overview ----------------------------------------------------------------------------------
function makeTile(asset) {
  const p = {
    btn: h("button", { type: "button", class: "sym", text: asset.symbol, onclick: () => { toggleOverview(false); scrollToSymbol(asset.symbol, false); } }),
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
      h("div", {}, h("dt", { text: "n" }), p.n)));
  assetColor(el, asset.color);
  return { el, ...p };
}

function updateTile(asset) {
  const t = tiles.get(asset.symbol);
  if (!t) return;
  setText(t.price, fmt.price(asset.price));
  const ch = changePct(asset);
  setText(t.change, `${fmt.arrow(Math.sign(ch))} ${fmt.pct(ch)}`);
  setTone(t.change, Math.sign(ch));
  const s = stats(asset);
  setText(t.mu, fmt.pct(s.mu, 2));
  setTone(t.mu, Math.sign(s.mu) || -1);
  setText(t.sigma, Number.isFinite(s.sigma) ? `${s.sigma.toFixed(2)}%` : "—");
  t.sigma.className = `mono ${!Number.isFinite(s.sigma) ? "" : s.sigma < 3 ? "up" : s.sigma < 6 ? "warn" : "down"}`;
  setText(t.n, String(s.n));
  const left = secondsLeft(asset);
  setText(t.expiry, fmt.countdown(left));
  t.expiry.setAttribute("aria-label", `expires in ${fmt.countdown(left)}`);
  t.expiry.className = `mono ${fmt.urgency(left)}`;
  const pos = liveAccount()?.positions.find((x) => x.symbol === asset.symbol);
  t.el.classList.toggle("held", Boolean(pos));
  t.el.classList.toggle("held-up", Boolean(pos) && pos.pnl > 0n);
  t.el.classList.toggle("held-down", Boolean(pos) && pos.pnl < 0n);
}

function toggleOverview(force) {
  const button = $("#m-overview-toggle", root);
  const show = force ?? overview.hidden;
  overview.hidden = !show;
  cardsBox.hidden = show;
  button.setAttribute("aria-pressed", String(show));
  root.classList.toggle("overview-open", show);
  if (show) for (const a of state.assets.values()) updateTile(a);
}

// -- ticks -------------------------------------------------------------------------------------
function onTick() {
  renderTop();
  for (const asset of state.assets.values()) {
    updateCard(asset);
    if (!overview.hidden) updateTile(asset);
  }
  if (isPhone()) {
    for (const c of cards.values()) if (c.visible) updateCardChart(c);
    if (!$("#m-tab-account", root).hidden) { renderAccountFigures(); pvChart?.update("none"); }
  }
  refreshSheet();
}

function renderCountdowns() {
  for (const asset of state.assets.values()) {
    const c = cards.get(asset.symbol);
    if (c) renderCardCountdown(c, asset);
  }
}

function renderTop() {
  const a = liveAccount();
  if (!a) return;
  setText($('[data-m="value"]', root), fmt.usd(a.value));
  setText($('[data-m="cash"]', root), fmt.usd(a.cash));
}

// -- actions and the sheet ---------------------------------------------------------------------
function wireActions() {
  for (const b of $$("[data-m-action]", root)) {
    b.addEventListener("click", () => {
      if (!current) return;
      const action = b.dataset.mAction;
      if (action === "sell-all") sellAll(current);
      else openSheet(action, current);
    });
  }
}

function renderActions() {
  const held = current ? holding(current) : null;
  for (const b of $$("[data-m-action]", root)) {
    const action = b.dataset.mAction;
    b.disabled = !current || (action !== "buy" && !held);
    const label = action === "buy" ? "Buy" : action === "sell" ? "Sell" : "Sell all";
    setText(b, current ? `${label} ${current}` : label);
  }
}

// -- account, history, leaders -----------------------------------------------------------------
function renderPortfolio() {
  renderTop();
  renderActions();
  for (const a of state.assets.values()) updateCard(a);
  for (const c of cards.values()) if (c.visible) updateCardChart(c);
  renderAccountFigures();
  const a = liveAccount();
  fill($("#m-holdings", root), a.positions.length
    ? a.positions.map((p) => {
      const li = h("li", { class: "m-holding", dataset: { symbol: p.symbol } },
        h("span", { class: "sym", text: p.symbol }),
        h("span", { class: "mono", text: `${fmt.qty(p.quantity)} @ ${fmt.price(p.avg_cost)}` }),
        h("span", { class: `mono ${fmt.sign(p.pnl) > 0 ? "up" : fmt.sign(p.pnl) < 0 ? "down" : ""}`, text: `${fmt.arrow(fmt.sign(p.pnl))} ${fmt.signedUsd(p.pnl)}` }));
      return assetColor(li, state.assets.get(p.symbol)?.color);
    })
    : [h("li", { class: "empty", text: "No positions. Cash only." })]);
}

function renderAccountFigures() {
  const a = liveAccount();
  if (!a) return;
  const set = (name, text, tone) => { const el = $(`[data-m-stat="${name}"]`, root); setText(el, text); if (tone !== undefined) setTone(el, tone); };
  set("value", fmt.usd(a.value));
  set("cash", fmt.usd(a.cash));
  set("total", `${fmt.arrow(fmt.sign(a.total))} ${fmt.signedUsd(a.total)}`, fmt.sign(a.total));
  set("realized", fmt.signedUsd(a.realized), fmt.sign(a.realized));
  set("unrealized", fmt.signedUsd(a.unrealized), fmt.sign(a.unrealized));
  set("ret", `${fmt.arrow(Math.sign(a.ret))} ${fmt.pct(a.ret)}`, Math.sign(a.ret));
  if (isPhone()) {
    setAllocation(allocChart, [{ label: "Cash", value: Number(a.cash) / 1e6, color: "#5b6676" },
      ...a.positions.map((p) => ({ label: p.symbol, value: Number(p.marketValue) / 1e6, color: state.assets.get(p.symbol)?.color || "#4c9dff" }))]);
  }
}

const KIND = { buy: "Buy", sell: "Sell", settled: "Settled" };

function renderHistory() {
  fill($("#m-history-table tbody", root), state.trades.slice(0, 50).map((r) => h("tr", {},
    h("td", { class: "mono muted", text: fmt.shortTime(r.at) }),
    h("th", { scope: "row" }, assetColor(h("span", { class: "sym", text: r.symbol }), state.assets.get(r.symbol)?.color)),
    h("td", {}, h("span", { class: `side side-${r.kind}`, text: KIND[r.kind] || r.kind })),
    h("td", { class: "num mono", text: fmt.qty(r.quantity) }),
    h("td", { class: "num mono", text: fmt.price(r.price) }))));
  $('[data-empty="m-history"]', root).hidden = state.trades.length > 0;
}

function renderLeaders() {
  fill($("#m-leaders-table tbody", root), state.leaders.map((r) => {
    const pnl = h("td", { class: "num mono", text: `${fmt.arrow(fmt.sign(r.total_pnl))} ${fmt.signedUsd(r.total_pnl)}` });
    setTone(pnl, fmt.sign(r.total_pnl));
    return h("tr", { class: r.name === state.username ? "mine" : "" }, h("td", { class: "mono", text: `#${r.rank}` }), h("th", { scope: "row", text: r.name }), pnl);
  }));
}

// -- tabs and search ---------------------------------------------------------------------------
function wireTabs() {
  const tabs = $$('[role="tab"]', root);
  const select = (tab) => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      $(`#${t.getAttribute("aria-controls")}`, root).hidden = !on;
    }
    if (tab.dataset.tab === "account") { renderAccountFigures(); pvChart?.update("none"); }
  };
  tabs.forEach((tab, i) => {
    tab.addEventListener("click", () => select(tab));
    tab.addEventListener("keydown", (e) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
      if (!step) return;
      const next = tabs[(i + step + tabs.length) % tabs.length];
      next.focus();
      select(next);
    });
  });
}

function wireSearch() {
  const input = $("#m-search", root);
  input.value = "";
  input.addEventListener("input", () => {
    const needle = input.value.trim().toUpperCase();
    if (!needle) return;
    const hit = sortedAssets().find((a) => a.symbol.includes(needle));
    if (hit) { toggleOverview(false); scrollToSymbol(hit.symbol); }
  });
  input.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); input.value = ""; input.blur(); } });
  window.addEventListener("pageshow", () => { input.value = ""; });
}

export function currentSymbol() {
  return current;
}
