// Entry: load once, then live by push. No polling: HTTP only at load and to fill a gap.
import * as api from "./api.js";
import * as socket from "./socket.js";
import {
  state, on, emit, addAsset, removeAsset, mergeHistory, pushPrice, setPortfolio, setServerTime,
  addOwn, fromTrade, fromSettlement, liveAccount, setFinalPrice, tradeOnTape,
} from "./state.js";
import * as toasts from "./toasts.js";
import { describeSettlement } from "./settlements.js";
import * as notifications from "./notifications.js";
import * as keys from "./keys.js";
import * as intro from "./intro.js";
import * as alerts from "./alerts.js";
import * as fmt from "./format.js";
import { atoms, USD } from "./decimal.js";
import { mountLayouts } from "./layout.js";
import { watchNetwork } from "./network.js";
import { followSections } from "./sections.js";
import { desktop } from "./desktop/index.js";
import { phone } from "./phone/index.js";
import { inShell } from "./shell.js";
import { signIn } from "./login.js";
import { followLinks } from "./links.js";
import { startWrapper } from "./wrapper.js";

const MAX_PERFORMANCE_POINTS = 600;
let app;
let ready = false;

const HISTORY_PAGE = 2000; // an asset's whole life at the default priors, as state.js keeps

/** An asset's prices: the latest page, or what follows sinceTick. A gap longer than one page
 *  (and than a chart keeps) is not bridged page by page: the latest page replaces the cache, so
 *  no hole stays behind and no straight line is drawn across one. */
async function loadHistory(asset, sinceTick) {
  const follow = sinceTick !== undefined && asset.tick - sinceTick <= HISTORY_PAGE;
  const query = follow ? `since_tick=${sinceTick}&limit=${HISTORY_PAGE}` : `limit=${HISTORY_PAGE}`;
  try {
    const body = await api.get(`/assets/${asset.id}/history?${query}`);
    if (sinceTick !== undefined && !follow) asset.history = [];
    mergeHistory(asset, body.points);
  } catch (err) {
    console.warn(`history of ${asset.symbol}`, err);
  }
}

/** The engine's ranking passes: the first load, then only the public `leaderboard` pushes. */
function setLeaders(body) {
  const seq = body.tick_seq ?? 0;
  if (seq < state.leadersSeq) return false; // an older pass than the one shown
  state.leadersSeq = seq;
  state.leaders = body.leaderboard;
  if (body.players !== undefined) state.players = body.players;
  if (body.me !== undefined) state.me = body.me; // only the REST reply knows who asks
  const mine = body.leaderboard.find((r) => r.display_name === state.displayName);
  if (mine) state.me = mine;
  return true;
}

async function boot() {
  app = document.getElementById("app");
  startWrapper();
  if (inShell) {
    // the phone apps' shell: the hosted game's account behind the stored token, or its sign-in
    const account = await signIn().catch((err) => ({ err }));
    if (!account) return;
    if (account.err) {
      toasts.init();
      toasts.toast({ kind: "error", title: "Could not reach the game", message: account.err.message || String(account.err), timeout: 0 });
      return;
    }
    app.dataset.displayName = account.display_name;
  }
  state.displayName = app.dataset.displayName || "";
  toasts.init();
  notifications.init();
  watchNetwork();
  wirePushes();

  try {
    const [assets, portfolio, trades, settlements, perf, leaders, tape] = await Promise.all([
      api.get("/assets"), api.get("/portfolio"), api.get("/trades?limit=100"), api.get("/settlements?limit=50"),
      api.get("/performance/history?points=300"), api.get("/leaderboard?limit=25"), api.get("/tape?limit=100"),
    ]);
    setServerTime(assets.server_time);
    for (const q of assets.assets) addAsset(q);
    await Promise.all([...state.assets.values()].map((a) => loadHistory(a)));
    setPortfolio(portfolio);
    addOwn([...trades.trades.map(fromTrade), ...settlements.settlements.map(fromSettlement)]);
    state.performance = perf.points.map((p) => ({ x: Date.parse(p.t), y: Number(p.value) }));
    setLeaders(leaders);
    state.tape = tape.tape;
  } catch (err) {
    toasts.toast({ kind: "error", title: "Could not load the market", message: err.message || String(err), timeout: 0 });
    return;
  }
  ready = true;
  const layouts = mountLayouts(app, { desktop, phone });
  followSections(app);
  followLinks(layouts);
  alerts.init();
  keys.init();
  intro.init();
  app.dataset.state = "ready";
  sessionStorage.removeItem("martingale.offlineTries"); // the offline page's backoff starts over
  emit("ready", layouts);
  // the leaderboard is pushed after each ranking pass: the page never asks for it again
  socket.connect().on("leaderboard", (body) => { if (setLeaders(body)) emit("leaders"); });
  setInterval(() => emit("second"), 1000);
}

function onPrices(msg) {
  if (!ready) return;
  setServerTime(msg.t);
  state.tickSeq = msg.tick_seq;
  const ms = Date.parse(msg.t);
  let unknown = false;
  for (const [symbol, price] of Object.entries(msg.prices)) {
    const asset = state.assets.get(symbol);
    if (asset) pushPrice(asset, ms, price, msg.ticks?.[symbol]);
    else unknown = true;
  }
  const account = liveAccount();
  if (account) {
    state.performance.push({ x: ms, y: Number(account.value) / 1e6 });
    if (state.performance.length > MAX_PERFORMANCE_POINTS) state.performance.shift();
  }
  if (state.firstLivePriceAt === null) {
    state.firstLivePriceAt = performance.now();
    app.dataset.firstLivePriceMs = String(Math.round(state.firstLivePriceAt));
  }
  app.dataset.tick = String(msg.tick_seq);
  emit("tick");
  if (unknown) emit("gap", "unknown asset");
}

/** Settlements that happened while the page was not listening: the player is told, once. */
function tellWhatSettledMeanwhile(items) {
  if (!items.length) return;
  const value = items.reduce((sum, i) => sum + atoms(i.value, USD), 0n);
  const about = describeSettlement({ count: items.length, value, items });
  toasts.toast({ ...about, title: `While you were away: ${about.title}`, timeout: 0 });
}

let filling = null;
async function fillGap(reason) {
  if (!ready) return;
  // ask for exactly what follows the last tick held without a hole
  const since = new Map([...state.assets.values()].map((a) => [a.symbol, a.filledTo >= 0 ? a.filledTo : undefined]));
  const known = new Set(state.trades.map((r) => r.key));
  try {
    // everything a push would have brought while the socket was away, not only prices
    const [assets, portfolio, trades, settlements, perf, leaders, tape] = await Promise.all([
      api.get("/assets"), api.get("/portfolio"), api.get("/trades?limit=100"), api.get("/settlements?limit=50"),
      api.get("/performance/history?points=300"), api.get("/leaderboard?limit=25"), api.get("/tape?limit=100"),
    ]);
    const live = new Set(assets.assets.map((q) => q.symbol));
    for (const symbol of [...state.assets.keys()]) if (!live.has(symbol)) { removeAsset(symbol); alerts.forget(symbol); }
    for (const q of assets.assets) addAsset(q);
    await Promise.all([...state.assets.values()].map((a) => loadHistory(a, since.get(a.symbol))));
    setPortfolio(portfolio);
    addOwn([...trades.trades.map(fromTrade), ...settlements.settlements.map(fromSettlement)]);
    state.performance = perf.points.map((p) => ({ x: Date.parse(p.t), y: Number(p.value) }));
    setLeaders(leaders);
    state.tape = tape.tape;
    emit("assets");
    emit("portfolio");
    emit("own");
    emit("tape");
    emit("leaders");
    emit("performance");
    emit("tick");
    tellWhatSettledMeanwhile(settlements.settlements.filter((s) => !known.has(fromSettlement(s).key)));
  } catch (err) {
    console.warn(`gap fill after ${reason}`, err);
  }
}

function wirePushes() {
  on("prices", onPrices);
  on("gap", (reason) => { if (!filling) filling = fillGap(reason).finally(() => { filling = null; }); });
  on("push:asset_born", (q) => {
    if (!ready || !q.price) return;
    const asset = addAsset(q);
    if (!asset.history.length) { asset.history.push({ x: asset.bornAt, y: Number(q.price) }); asset.seen = 1; }
    emit("assets");
    // a new asset every few seconds would cover the page: it goes to the history only
    toasts.note({ kind: "info", title: "New asset", message: `${q.symbol} listed at ${fmt.price(q.price)}, expires in ${fmt.countdown(q.seconds_to_expiry)}.` });
  });
  on("push:asset_expired", (msg) => {
    if (!ready) return;
    removeAsset(msg.symbol, msg.price);
    alerts.forget(msg.symbol);
    emit("assets");
  });
  // the server batches the tape: one message carries the trades of a short interval, oldest first
  on("push:tape", (batch) => {
    let moved = false;
    for (const t of Array.isArray(batch) ? batch : [batch]) {
      state.tape.unshift(t);
      // the tape carries every trade, so open interest stays live without asking; a trade that
      // landed in the page's last quote and in this batch both is counted twice until the next
      // quote (a reconnect's refill): a display figure, never used for money
      if (ready && tradeOnTape(t)) moved = true;
    }
    if (state.tape.length > 100) state.tape.length = 100;
    emit("tape");
    if (moved) emit("interest");
  });
  // public: everyone hears that an asset expired and settled, on the tape and in the history
  on("push:asset_settled", (msg) => {
    setFinalPrice(msg.symbol, msg.settlement_price);
    if (!ready) return;
    const at = new Date(state.serverTime ?? Date.now()).toISOString();
    state.tape.unshift({ kind: "settled", symbol: msg.symbol, price: msg.settlement_price, executed_at: at });
    if (state.tape.length > 100) state.tape.length = 100;
    emit("tape");
    const how = msg.worthless ? "worthless, below one cent" : `at ${fmt.price(msg.settlement_price)}`;
    toasts.note({ kind: "info", title: `${msg.symbol} settled`, message: `${msg.symbol} expired and settled ${how}.` });
  });
  on("push:portfolio", (body) => { setPortfolio(body); emit("portfolio"); });
  on("push:settlement", (msg) => {
    addOwn(msg.items.map(fromSettlement));
    emit("own");
    toasts.toast({ ...describeSettlement(msg), timeout: 10000 });
  });
  on("own_trade", () => { emit("own"); });
  on("signed_out", () => {
    toasts.toast({ kind: "error", title: "Signed out", message: "This session has ended. Reload the page to log in again.", timeout: 0 });
  });
}

boot();
