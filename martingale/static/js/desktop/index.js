// The desktop layout (> 768px): status bar, account figures, assets and the trade form, holdings
// and allocation, portfolio value and leaders, price charts, own trades and the tape.
import { fill, $, setText } from "../dom.js";
import * as fmt from "../format.js";
import { state, sortedAssets, liveAccount } from "../state.js";
import { renderAccountStats } from "../views/account.js";
import { renderLeaders, renderMyRank } from "../views/leaders.js";
import { ownTradeRow, tapeRow } from "../views/trades.js";
import { allocationChart } from "../views/allocation.js";
import { portfolioChart } from "../views/portfolio.js";
import { assetTable } from "./assets.js";
import { holdingsTable } from "./holdings.js";
import { priceCharts } from "./pricecharts.js";
import { tradeForm } from "./tradeform.js";

let root;
let form;
let assets;
let holdings;
let charts;
let allocation;
let pv;

function init(app) {
  root = $(".desk", app);
  form = tradeForm($("#trade-form", root));
  assets = assetTable(root, { onPick: (symbol) => form.select(symbol) });
  holdings = holdingsTable($("#holdings-table", root), { onPick: (symbol) => form.select(symbol, "sell") });
  charts = priceCharts(root);
  allocation = allocationChart($("#alloc-chart", root));
  pv = portfolioChart($("#pv-chart", root));
}

function renderConnection(live) {
  form.refresh(); // the trade buttons follow the network
  if (state.online && live === null) return; // not tried yet: the page still says "Connecting…"
  setText($('[data-role="conn"]', root), !state.online ? "Offline" : live ? "Live" : "Reconnecting…");
  root.classList.toggle("offline", !state.online || !live);
}

function renderAssets() {
  assets.render();
  form.setSymbols(sortedAssets().map((a) => a.symbol));
  charts.render();
}

function renderAccount() {
  const a = liveAccount();
  if (!a) return;
  renderAccountStats($(".perf", root), a);
  setText($('[data-role="pv-latest"]', root), fmt.usd(a.value));
  allocation.draw(a);
}

function renderPortfolio() {
  renderAccount();
  holdings.render();
  form.refresh();
}

function onTick() {
  setText($('[data-role="tick"]', root), String(state.tickSeq ?? "—"));
  setText($('[data-role="clock"]', root), fmt.time(state.serverTime));
  assets.refresh();
  renderAccount();
  holdings.refresh();
  form.refresh();
  charts.draw();
  pv.draw();
  renderMyRank($('#lead-h', root).closest("section").querySelector('[data-role="my-rank"]'));
}

function renderCountdowns() {
  assets.countdowns();
  holdings.countdowns();
}

function renderOwn() {
  fill($("#own-table tbody", root), state.trades.slice(0, 100).map((r) => ownTradeRow(r)));
  $('[data-empty="own"]', root).hidden = state.trades.length > 0;
}

function renderTape() {
  fill($("#tape-table tbody", root), state.tape.slice(0, 100).map(tapeRow));
  $('[data-empty="tape"]', root).hidden = state.tape.length > 0;
}

function renderAll() {
  renderConnection(state.connected);
  renderAssets();
  renderPortfolio();
  renderOwn();
  renderTape();
  renderLeaders($("#lead-table tbody", root));
  onTick();
}

// a deep link's asset: in the trade form, its row in view
function select(symbol) {
  form.select(symbol);
  root.querySelector(`#asset-table tr[data-symbol="${CSS.escape(symbol)}"]`)?.scrollIntoView({ block: "center" });
}

export const desktop = {
  init,
  renderAll,
  select,
  on: {
    assets: renderAssets,
    interest: () => assets.interest(),
    tick: onTick,
    second: renderCountdowns,
    portfolio: renderPortfolio,
    own: renderOwn,
    tape: renderTape,
    leaders: () => renderLeaders($("#lead-table tbody", root)),
    performance: () => pv.draw(),
    connection: renderConnection,
  },
};
