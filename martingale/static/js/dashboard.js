// The desktop dashboard (> 768px): performance, assets, trade form, holdings, charts, activity.
import { h, fill, $, $$, setText, setTone, assetColor, isPhone } from "./dom.js";
import * as fmt from "./format.js";
import { state, on, sortedAssets, secondsLeft, changePct, liveAccount, serverNow } from "./state.js";
import { lineChart, series, doughnut, setAllocation } from "./charts.js";
import { tradeForm } from "./tradeform.js";
import { sellAll } from "./trade.js";

let root;
const rows = new Map(); // symbol -> asset table row parts
let allocChart = null;
let pvChart = null;
let priceCharts = []; // {el, chart, symbols:Set, select, tags, last}
let form = null;

export function init(app) {
  root = $(".desk", app);
  form = tradeForm($("#trade-form", root));
  $("#asset-filter", root).addEventListener("input", filterAssets);
  $("#chart-count", root).addEventListener("change", (e) => setChartCount(Number(e.target.value)));
  allocChart = doughnut($("#alloc-chart", root));
  pvChart = lineChart($("#pv-chart", root), { kind: "usd" });
  if (pvChart) pvChart.data.datasets = [series("Portfolio value", "#4c9dff", [], { fill: "start", backgroundColor: "rgba(76,157,255,0.12)" })];

  on("assets", renderAssets);
  on("tick", onTick);
  on("second", renderCountdowns);
  on("portfolio", renderPortfolio);
  on("own", renderOwn);
  on("tape", renderTape);
  on("leaders", renderLeaders);
  on("performance", renderPerformanceChart);
  on("connection", renderConnection);
  on("layout", () => { if (!isPhone()) refreshCharts(); });
}

// -- status ------------------------------------------------------------------------------------
function renderConnection(live) {
  setText($('[data-role="conn"]', root), live ? "Live" : "Reconnecting…");
  root.classList.toggle("offline", !live);
}

function onTick() {
  setText($('[data-role="tick"]', root), String(state.tickSeq ?? "—"));
  const clock = $('[data-role="clock"]', root);
  setText(clock, fmt.time(state.serverTime));
  for (const asset of state.assets.values()) updateAssetRow(asset);
  renderPerformance();
  renderHoldingsPrices();
  form.refresh();
  if (!isPhone()) {
    updatePriceCharts();
    pvChart?.update("none");
  }
}

// -- assets ------------------------------------------------------------------------------------
function renderAssets() {
  const tbody = $("#asset-table tbody", root);
  const assets = sortedAssets();
  for (const [symbol, row] of rows) {
    if (!state.assets.has(symbol)) { row.tr.remove(); rows.delete(symbol); }
  }
  for (const asset of assets) {
    if (!rows.has(asset.symbol)) rows.set(asset.symbol, assetRow(asset));
    tbody.append(rows.get(asset.symbol).tr); // keeps alphabetical order
    updateAssetRow(asset);
  }
  $('[data-empty="assets"]', root).hidden = assets.length > 0;
  filterAssets();
  form.setSymbols(assets.map((a) => a.symbol));
  for (const pc of priceCharts) fillChartSelect(pc);
}

function assetRow(asset) {
  const pick = h("button", { type: "button", class: "sym", title: `Trade ${asset.symbol}`, text: asset.symbol,
    onclick: () => form.select(asset.symbol) });
  assetColor(pick, asset.color);
  const price = h("td", { class: "num mono price" });
  const change = h("td", { class: "num mono" });
  const expiry = h("td", { class: "num mono" });
  const ticks = h("td", { class: "num mono muted" });
  const tr = h("tr", { dataset: { symbol: asset.symbol } }, h("th", { scope: "row" }, pick), price, change, expiry, ticks);
  assetColor(tr, asset.color);
  return { tr, price, change, expiry, ticks, last: null };
}

function updateAssetRow(asset) {
  const row = rows.get(asset.symbol);
  if (!row) return;
  if (row.last !== asset.price) {
    const dir = row.last === null ? 0 : Math.sign(Number(asset.price) - Number(row.last));
    setText(row.price, fmt.price(asset.price));
    row.price.classList.remove("flash-up", "flash-down");
    if (dir) { void row.price.offsetWidth; row.price.classList.add(dir > 0 ? "flash-up" : "flash-down"); }
    row.last = asset.price;
  }
  const ch = changePct(asset);
  setText(row.change, `${fmt.arrow(Math.sign(ch))} ${fmt.pct(ch)}`);
  setTone(row.change, Math.sign(ch));
  row.change.setAttribute("aria-label", `${ch >= 0 ? "up" : "down"} ${Math.abs(ch).toFixed(2)} percent since listing`);
  setText(row.ticks, String(asset.seen));
  renderCountdown(row.expiry, asset);
}

function renderCountdown(el, asset) {
  const left = secondsLeft(asset);
  setText(el, fmt.countdown(left));
  el.className = `num mono ${fmt.urgency(left)}`;
}

function renderCountdowns() {
  for (const asset of state.assets.values()) {
    const row = rows.get(asset.symbol);
    if (row) renderCountdown(row.expiry, asset);
  }
  for (const tr of $$("#holdings-table tbody tr[data-symbol]", root)) {
    const asset = state.assets.get(tr.dataset.symbol);
    const cell = $(".expiry", tr);
    if (asset && cell) { renderCountdown(cell, asset); cell.classList.add("expiry"); }
  }
}

function filterAssets() {
  const needle = $("#asset-filter", root).value.trim().toUpperCase();
  for (const [symbol, row] of rows) row.tr.hidden = Boolean(needle) && !symbol.includes(needle);
}

// -- account -----------------------------------------------------------------------------------
function stat(name, text, tone) {
  const el = $(`[data-stat="${name}"]`, root);
  setText(el, text);
  if (tone !== undefined) setTone(el, tone);
}

function renderPerformance() {
  const a = liveAccount();
  if (!a) return;
  stat("value", fmt.usd(a.value));
  stat("cash", fmt.usd(a.cash));
  stat("total", `${fmt.arrow(fmt.sign(a.total))} ${fmt.signedUsd(a.total)}`, fmt.sign(a.total));
  stat("realized", fmt.signedUsd(a.realized), fmt.sign(a.realized));
  stat("unrealized", fmt.signedUsd(a.unrealized), fmt.sign(a.unrealized));
  stat("ret", `${fmt.arrow(Math.sign(a.ret))} ${fmt.pct(a.ret)}`, Math.sign(a.ret));
  setText($('[data-role="pv-latest"]', root), fmt.usd(a.value));
}

function renderPortfolio() {
  renderPerformance();
  const a = liveAccount();
  const tbody = $("#holdings-table tbody", root);
  const cash = h("tr", { class: "cash-row" },
    h("th", { scope: "row" }, h("span", { class: "sym cash", text: "CASH" })),
    h("td", { class: "num muted", text: "—" }), h("td", { class: "num muted", text: "—" }),
    h("td", { class: "num muted", text: "—" }), h("td", { class: "num mono", text: fmt.usd(a.cash) }),
    h("td", { class: "num muted", text: "—" }), h("td", { class: "num muted", text: "—" }), h("td"));
  const held = a.positions.map((p) => {
    const asset = state.assets.get(p.symbol);
    const tag = h("button", { type: "button", class: "sym", text: p.symbol, title: `Trade ${p.symbol}`, onclick: () => form.select(p.symbol, "sell") });
    assetColor(tag, asset?.color);
    const tr = h("tr", { dataset: { symbol: p.symbol } },
      h("th", { scope: "row" }, tag),
      h("td", { class: "num mono qty", text: fmt.qty(p.quantity) }),
      h("td", { class: "num mono avg", text: fmt.price(p.avg_cost) }),
      h("td", { class: "num mono live-price", text: fmt.price(p.price) }),
      h("td", { class: "num mono mv", text: fmt.usd(p.marketValue) }),
      h("td", { class: "num mono pnl" }),
      h("td", { class: "num mono expiry" }),
      h("td", { class: "actions" }, h("button", { type: "button", class: "ghost small", text: "Sell all", "aria-label": `Sell all ${p.symbol}`, onclick: () => sellAll(p.symbol) })));
    assetColor(tr, asset?.color);
    return tr;
  });
  fill(tbody, cash, held);
  renderHoldingsPrices();
  renderCountdowns();
  form.refresh();
}

function renderHoldingsPrices() {
  const a = liveAccount();
  if (!a) return;
  const cashCell = $("#holdings-table tbody tr.cash-row td:nth-child(5)", root);
  if (cashCell) setText(cashCell, fmt.usd(a.cash));
  const slices = [{ label: "Cash", value: Number(a.cash) / 1e6, color: "#5b6676" }];
  for (const p of a.positions) {
    const tr = $(`#holdings-table tbody tr[data-symbol="${CSS.escape(p.symbol)}"]`, root);
    const mvNumber = Number(p.marketValue) / 1e6;
    slices.push({ label: p.symbol, value: mvNumber, color: state.assets.get(p.symbol)?.color || "#4c9dff" });
    if (!tr) continue;
    setText($(".live-price", tr), fmt.price(p.price));
    setText($(".mv", tr), fmt.usd(p.marketValue));
    const cost = Number(p.cost_basis);
    const pnlPct = cost > 0 ? (Number(p.pnl) / 1e6 / cost) * 100 : 0;
    const pnl = $(".pnl", tr);
    setText(pnl, `${fmt.arrow(fmt.sign(p.pnl))} ${fmt.signedUsd(p.pnl)} (${fmt.pct(pnlPct)})`);
    setTone(pnl, fmt.sign(p.pnl));
  }
  if (!isPhone()) setAllocation(allocChart, slices);
}

// -- activity ----------------------------------------------------------------------------------
const KIND = { buy: "Buy", sell: "Sell", settled: "Settled" };

function renderOwn() {
  const tbody = $("#own-table tbody", root);
  fill(tbody, state.trades.slice(0, 100).map((r) => h("tr", {},
    h("td", { class: "mono muted", title: fmt.stamp(r.at), text: fmt.when(r.at, serverNow()) }),
    h("th", { scope: "row" }, symTag(r.symbol)),
    h("td", {}, h("span", { class: `side side-${r.kind}`, text: KIND[r.kind] || r.kind })),
    h("td", { class: "num mono", text: fmt.qty(r.quantity) }),
    h("td", { class: "num mono", text: fmt.price(r.price) }),
    h("td", { class: "num mono", text: fmt.usd(r.total) }))));
  $('[data-empty="own"]', root).hidden = state.trades.length > 0;
}

function renderTape() {
  const tbody = $("#tape-table tbody", root);
  fill(tbody, state.tape.slice(0, 100).map((t) => h("tr", { class: t.name === state.username ? "mine" : "" },
    h("td", { class: "mono muted", text: fmt.time(Date.parse(t.executed_at)) }),
    h("td", { class: "name", text: t.name }),
    h("th", { scope: "row" }, symTag(t.symbol)),
    h("td", {}, h("span", { class: `side side-${t.side}`, text: KIND[t.side] || t.side })),
    h("td", { class: "num mono", text: fmt.qty(t.quantity) }),
    h("td", { class: "num mono", text: fmt.price(t.price) }))));
  $('[data-empty="tape"]', root).hidden = state.tape.length > 0;
}

function renderLeaders() {
  const tbody = $("#lead-table tbody", root);
  fill(tbody, state.leaders.map((r) => {
    const pnl = h("td", { class: "num mono", text: `${fmt.arrow(fmt.sign(r.total_pnl))} ${fmt.signedUsd(r.total_pnl)}` });
    setTone(pnl, fmt.sign(r.total_pnl));
    return h("tr", { class: r.name === state.username ? "mine" : "" },
      h("td", { class: "mono", text: `#${r.rank}` }), h("th", { scope: "row", text: r.name }), pnl);
  }));
}

function symTag(symbol) {
  const el = h("span", { class: "sym", text: symbol });
  return assetColor(el, state.assets.get(symbol)?.color);
}

// -- charts ------------------------------------------------------------------------------------
function renderPerformanceChart() {
  if (!pvChart) return;
  pvChart.data.datasets[0].data = state.performance;
  if (!isPhone()) pvChart.update("none");
}

function setChartCount(n) {
  while (priceCharts.length > n) {
    const pc = priceCharts.pop();
    pc.chart?.destroy();
    pc.el.remove();
  }
  const defaults = sortedAssets().map((a) => a.symbol);
  while (priceCharts.length < n) {
    const pick = defaults[priceCharts.length] ? [defaults[priceCharts.length]] : [];
    priceCharts.push(makePriceChart(priceCharts.length, pick));
  }
  const box = $("#price-charts", root);
  box.dataset.count = String(n);
  updatePriceCharts();
}

function makePriceChart(index, symbols) {
  const id = `pc-${index}`;
  const select = h("select", { id: `${id}-sym` });
  const add = h("button", { type: "button", class: "ghost small", text: "Add" });
  const clear = h("button", { type: "button", class: "ghost small", text: "Clear" });
  const tags = h("ul", { class: "tags", "aria-label": "Symbols on this chart" });
  const last = h("p", { class: "last-prices mono", "aria-live": "off" });
  const canvas = h("canvas", { role: "img", "aria-label": `Price chart ${index + 1}` });
  const el = h("div", { class: "price-chart" },
    h("div", { class: "pc-head" },
      h("label", { for: `${id}-sym`, class: "sr-only", text: `Symbol to add to chart ${index + 1}` }), select, add, clear, tags),
    last, h("div", { class: "chart-box chart-price" }, canvas));
  $("#price-charts", root).append(el);
  const pc = { el, select, tags, last, chart: lineChart(canvas, { legend: true }), symbols: new Set(symbols) };
  add.addEventListener("click", () => { if (pc.select.value && pc.symbols.size < 8) { pc.symbols.add(pc.select.value); renderTags(pc); updatePriceCharts(); } });
  clear.addEventListener("click", () => { pc.symbols.clear(); renderTags(pc); updatePriceCharts(); });
  fillChartSelect(pc);
  renderTags(pc);
  return pc;
}

function fillChartSelect(pc) {
  const current = pc.select.value;
  fill(pc.select, sortedAssets().map((a) => h("option", { value: a.symbol, text: a.symbol })));
  if (state.assets.has(current)) pc.select.value = current;
  for (const s of [...pc.symbols]) if (!state.assets.has(s)) pc.symbols.delete(s);
  renderTags(pc);
}

function renderTags(pc) {
  fill(pc.tags, [...pc.symbols].map((s) => {
    const li = h("li", { class: "tag" }, h("span", { text: s }),
      h("button", { type: "button", class: "tag-x", "aria-label": `Remove ${s} from chart`, text: "×",
        onclick: () => { pc.symbols.delete(s); renderTags(pc); updatePriceCharts(); } }));
    return assetColor(li, state.assets.get(s)?.color);
  }));
}

function updatePriceCharts() {
  for (const pc of priceCharts) {
    const assets = [...pc.symbols].map((s) => state.assets.get(s)).filter(Boolean);
    setText(pc.last, assets.length ? assets.map((a) => `${a.symbol} ${fmt.price(a.price)}`).join("  ·  ") : "Pick a symbol and press Add.");
    if (!pc.chart) continue;
    pc.chart.data.datasets = assets.map((a) => series(a.symbol, a.color, a.history.slice()));
    pc.chart.options.plugins.legend.display = assets.length > 1;
    pc.chart.update("none");
  }
}

function refreshCharts() {
  renderHoldingsPrices();
  renderPerformanceChart();
  updatePriceCharts();
}

export function start() {
  setChartCount(Number($("#chart-count", root).value));
}

