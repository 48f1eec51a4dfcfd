// The phone layout (<= 768px): a top bar, four tabs (assets as swipe cards or an overview grid,
// history, leaders, account), the buy/sell actions and their sheet.
import { fill, h, $, $$, setText } from "../dom.js";
import * as fmt from "../format.js";
import { state, sortedAssets, liveAccount, holding } from "../state.js";
import { sellAll } from "../trade.js";
import * as toasts from "../toasts.js";
import { confirmSellEverything } from "../confirm.js";
import { renderLeaders, renderMyRank } from "../views/leaders.js";
import { ownTradeRow } from "../views/trades.js";
import { assetCards } from "./cards.js";
import { overviewTiles } from "./overview.js";
import { accountTab } from "./account.js";
import { initSheet, openSheet } from "./sheet.js";

let root;
let cards;
let tiles;
let account;

function init(app) {
  root = $(".phone", app);
  cards = assetCards($("#m-cards", root), { onCurrent: renderActions, onGone: cardGone });
  tiles = overviewTiles($("#m-overview", root), {
    onPick: (symbol) => { toggleOverview(false); cards.scrollTo(symbol, false); },
  });
  account = accountTab($("#m-tab-account", root));
  initSheet();
  wireTabs();
  wireSearch();
  wireActions();
  $("#m-overview-toggle", root).addEventListener("click", () => toggleOverview());
  $('[data-action="sell-everything"]', root).addEventListener("click", confirmSellEverything);
}

function renderConnection(live) {
  renderActions(); // the trade buttons follow the network
  if (state.online && live === null) return; // not tried yet: the page still says "Connecting"
  root.classList.toggle("offline", !state.online || !live);
  setText($('[data-role="conn-m"]', root), !state.online ? "Offline" : live ? "Live" : "Reconnecting");
}

function renderTop() {
  const a = liveAccount();
  if (!a) return;
  setText($('[data-m="value"]', root), fmt.usd(a.value));
  setText($('[data-m="cash"]', root), fmt.usd(a.cash));
}

function overviewShown() {
  return !$("#m-overview", root).hidden;
}

function toggleOverview(force) {
  const show = force ?? !overviewShown();
  $("#m-overview", root).hidden = !show;
  $("#m-cards", root).hidden = show;
  $("#m-overview-toggle", root).setAttribute("aria-pressed", String(show));
  root.classList.toggle("overview-open", show);
  if (show) tiles.refresh();
}

function renderAssets() {
  cards.render();
  tiles.render();
}

function renderPortfolio() {
  renderTop();
  renderActions();
  cards.refresh();
  account.render();
}

function onTick() {
  renderTop();
  cards.refresh();
  if (overviewShown()) tiles.refresh();
  if (account.shown()) { account.renderFigures(); account.drawPerformance(); }
  renderMyRank($("#m-tab-leaders [data-role=\"my-rank\"]", root));
}

function renderHistory() {
  fill($("#m-history-table tbody", root), state.trades.slice(0, 50).map((r) => ownTradeRow(r, { brief: true })));
  $('[data-empty="m-history"]', root).hidden = state.trades.length > 0;
}

function renderAll() {
  renderConnection(state.connected);
  renderAssets();
  renderPortfolio();
  renderHistory();
  renderLeaders($("#m-leaders-table tbody", root));
  account.drawPerformance();
}

// The card on screen went because its asset expired: say so, rather than silently show another.
function cardGone(symbol, next) {
  const last = state.finalPrices.get(symbol);
  const at = last ? ` at ${fmt.price(last)}` : "";
  toasts.toast({ id: "card-gone", kind: "info", title: `${symbol} expired`,
    message: `${symbol} expired${at}${holding(symbol) ? " and your position is being settled" : ""}.${next ? ` Now showing ${next}.` : ""}` });
}

// -- actions on the current card ---------------------------------------------------------------
function wireActions() {
  for (const b of $$("[data-m-action]", root)) {
    b.addEventListener("click", () => {
      const current = cards.current();
      if (!current) return;
      const action = b.dataset.mAction;
      if (action === "sell-all") sellAll(current);
      else openSheet(action, current);
    });
  }
}

function renderActions() {
  const current = cards.current();
  const held = current ? holding(current) : null;
  for (const b of $$("[data-m-action]", root)) {
    const action = b.dataset.mAction;
    b.disabled = !current || !state.online || (action !== "buy" && !held);
    const label = action === "buy" ? "Buy" : action === "sell" ? "Sell" : "Sell all";
    // the symbol in its own span, which the narrowest screens hide (the card names the asset)
    if (b.dataset.label !== `${label} ${current}`) {
      b.dataset.label = `${label} ${current}`;
      b.replaceChildren(label, ...(current ? [" ", h("span", { class: "m-act-sym", text: current })] : []));
    }
  }
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
    if (tab.dataset.tab === "account") { account.renderFigures(); account.drawPerformance(); }
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
    if (hit) { toggleOverview(false); cards.scrollTo(hit.symbol); }
  });
  input.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); input.value = ""; input.blur(); } });
  window.addEventListener("pageshow", () => { input.value = ""; });
}

// a deep link's asset: the Assets tab, its card on screen
function select(symbol) {
  $('.m-tabs [data-tab="assets"]', root).click();
  toggleOverview(false);
  cards.scrollTo(symbol, false);
}

export const phone = {
  init,
  renderAll,
  select,
  on: {
    assets: renderAssets,
    interest: () => cards.interest(),
    tick: onTick,
    second: () => cards.countdowns(),
    portfolio: renderPortfolio,
    own: renderHistory,
    leaders: () => renderLeaders($("#m-leaders-table tbody", root)),
    performance: () => account.drawPerformance(),
    connection: renderConnection,
  },
};
