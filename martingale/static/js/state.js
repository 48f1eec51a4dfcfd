// The one store: assets with their price history, the portfolio, trade lists. Publishes changes.
import { atoms, text, value, toNumber, QTY, USD } from "./decimal.js";
import { color } from "./theme.js";

// an asset's whole life at the default priors (at most 30 minutes of one tick a second): the
// charts' "All" range draws from birth; the API's largest page
const MAX_POINTS = 2000;

export const state = {
  displayName: "", // the signed-in player's public name: marks their own rows on the tape and board
  assets: new Map(), // symbol -> asset (see addAsset)
  finalPrices: new Map(), // symbol -> last price of an asset gone while the portfolio still holds it
  portfolio: null, // the API's portfolio body
  granted: null, // BigInt USD atoms the player started with (value - total P&L)
  trades: [], // own trades and settlements, newest first: {kind, symbol, quantity, price, total, at}
  tape: [], // public trades, newest first
  leaders: [], // the last ranking pass's top rows (GET /leaderboard once, then pushes)
  leadersSeq: 0, // the tick_seq of that pass
  me: null, // the player's own row of the last pass that returned it (GET /leaderboard), if ranked
  players: 0, // how many players that pass ranked
  performance: [], // {x: ms, y: value}
  tickSeq: null,
  serverTime: null, // ms of the last tick's server time
  serverTimeAt: 0, // performance.now() when it arrived
  connected: null, // null until the socket first connects or fails
  online: navigator.onLine, // the device's network as the browser reports it (network.js)
  firstLivePriceAt: null,
};

// The platform's EventTarget carries the topics: a listener that throws is reported and the rest still run.
const bus = new EventTarget();

export function on(topic, fn) {
  bus.addEventListener(topic, (e) => fn(e.detail));
}

export function emit(topic, payload) {
  bus.dispatchEvent(new CustomEvent(topic, { detail: payload }));
}

/** The server's clock now: the last tick's time plus what elapsed locally, at most one tick. */
export function serverNow() {
  if (state.serverTime === null) return Date.now();
  return state.serverTime + Math.min(1000, performance.now() - state.serverTimeAt);
}

export function setServerTime(iso) {
  state.serverTime = Date.parse(iso);
  state.serverTimeAt = performance.now();
}

export function secondsLeft(asset) {
  return (asset.expiresAt - serverNow()) / 1000;
}

/** An asset from the API's quote shape. */
export function addAsset(q) {
  const existing = state.assets.get(q.symbol);
  if (existing && existing.id === q.id) {
    Object.assign(existing, { price: q.price, tick: Math.max(existing.tick, q.tick ?? 0) });
    // a fresh quote's count replaces what the tape's trades made of the older one
    if (q.open_interest !== undefined) existing.openInterest = q.open_interest;
    return existing;
  }
  const asset = {
    id: q.id, symbol: q.symbol, color: q.color || color("accent"),
    price: q.price, prevPrice: q.price, initial: q.initial_price || q.price,
    drift: q.drift, volatility: q.volatility,
    bornAt: Date.parse(q.born_at), expiresAt: Date.parse(q.expires_at),
    // filledTo: the last tick up to which the cached history has no hole (-1: none yet)
    tick: q.tick ?? 0, filledTo: -1, history: [], seen: 0,
    openInterest: q.open_interest ?? "0", // units all players hold, a decimal string
  };
  state.assets.set(q.symbol, asset);
  return asset;
}

/** A public trade moves its asset's open interest: a buy adds its units, a sell takes them. */
export function tradeOnTape(t) {
  const asset = state.assets.get(t.symbol);
  if (!asset || (t.side !== "buy" && t.side !== "sell")) return false;
  const units = atoms(t.quantity, QTY);
  const now = atoms(asset.openInterest, QTY) + (t.side === "buy" ? units : -units);
  asset.openInterest = text(now < 0n ? 0n : now, QTY);
  return true;
}

/** An asset gone; ``finalPrice``, when the expiry names it, is what it settles at. */
export function removeAsset(symbol, finalPrice) {
  const asset = state.assets.get(symbol);
  state.assets.delete(symbol);
  // until the settlement's portfolio push, the holding is worth its final price (or, unnamed,
  // its last one), not the older price of the last portfolio snapshot (the value chart spiked
  // at every settlement); the last tick this page saw may be a tick or more before the end
  const last = finalPrice ?? asset?.price;
  if (last) state.finalPrices.set(symbol, last);
  return asset;
}

/** The settled asset's own final price, from its public asset_settled message. */
export function setFinalPrice(symbol, price) {
  if (!state.assets.has(symbol)) state.finalPrices.set(symbol, price);
}

export function sortedAssets() {
  return [...state.assets.values()].sort((a, b) => a.symbol.localeCompare(b.symbol));
}

/** Merge history points {tick, t, price} into an asset, keeping order and at most MAX_POINTS. */
export function mergeHistory(asset, points) {
  if (!points.length) return;
  const incoming = points.map((p) => ({ x: Date.parse(p.t), y: Number(p.price), tick: p.tick }));
  const first = incoming[0].x - 500;
  const last = incoming[incoming.length - 1].x + 500;
  const before = asset.history.filter((p) => p.x < first);
  const after = asset.history.filter((p) => p.x > last);
  asset.history = [...before, ...incoming, ...after].slice(-MAX_POINTS);
  asset.tick = Math.max(asset.tick, incoming[incoming.length - 1].tick);
  asset.filledTo = Math.max(asset.filledTo, incoming[incoming.length - 1].tick);
  asset.seen = Math.max(asset.seen, asset.history.length);
}

export function pushPrice(asset, ms, price, tick) {
  asset.prevPrice = asset.price;
  asset.price = price;
  const next = tick ?? asset.tick + 1;
  if (next === asset.filledTo + 1) asset.filledTo = next; // else a hole, until history fills it
  asset.tick = Math.max(asset.tick, next);
  asset.seen += 1;
  const last = asset.history[asset.history.length - 1];
  if (!last || ms > last.x + 1) asset.history.push({ x: ms, y: Number(price) });
  if (asset.history.length > MAX_POINTS) asset.history.splice(0, asset.history.length - MAX_POINTS);
}

export function holding(symbol) {
  return state.portfolio?.holdings.find((h) => h.symbol === symbol) || null;
}

export function setPortfolio(body) {
  state.portfolio = body;
  state.granted = atoms(body.value, USD) - atoms(body.total_pnl, USD);
  const held = new Set(body.holdings.map((h) => h.symbol));
  for (const symbol of state.finalPrices.keys()) if (!held.has(symbol)) state.finalPrices.delete(symbol);
}

/** Account figures at the latest prices (BigInt USD atoms), between the server's pushes. */
export function liveAccount() {
  const p = state.portfolio;
  if (!p) return null;
  const cash = atoms(p.cash, USD);
  let worth = cash;
  let unrealized = 0n;
  const positions = p.holdings.map((h) => {
    const live = state.assets.get(h.symbol)?.price ?? state.finalPrices.get(h.symbol) ?? h.price;
    const marketValue = value(h.quantity, live);
    const pnl = marketValue - atoms(h.cost_basis, USD);
    worth += marketValue;
    unrealized += pnl;
    return { ...h, price: live, marketValue, pnl };
  });
  const total = worth - state.granted;
  const realized = total - unrealized;
  const ret = state.granted > 0n ? (toNumber(total, USD) / toNumber(state.granted, USD)) * 100 : 0;
  return { cash, value: worth, unrealized, realized, total, ret, positions };
}

/** Per-tick percent returns over the cached history: mean, sample deviation and samples seen. */
export function stats(asset) {
  const h = asset.history;
  const returns = [];
  for (let i = 1; i < h.length; i += 1) if (h[i - 1].y > 0) returns.push((h[i].y / h[i - 1].y - 1) * 100);
  const n = returns.length;
  const mu = n ? returns.reduce((a, b) => a + b, 0) / n : NaN;
  const sigma = n > 1 ? Math.sqrt(returns.reduce((a, r) => a + (r - mu) ** 2, 0) / (n - 1)) : NaN;
  return { mu, sigma, n: asset.seen };
}

/** The asset's age in seconds: the server's tick count for it (one tick a second since birth),
 *  not the prices this browser happened to see. */
export function ageSeconds(asset) {
  return asset.tick;
}

export function changePct(asset) {
  const initial = Number(asset.initial);
  return initial > 0 ? (Number(asset.price) / initial - 1) * 100 : 0;
}

/** An own trade or settlement row, newest first, without duplicates. */
export function addOwn(rows) {
  const seen = new Set(state.trades.map((r) => r.key));
  for (const r of rows) if (!seen.has(r.key)) { state.trades.push(r); seen.add(r.key); }
  state.trades.sort((a, b) => b.at - a.at || a.symbol.localeCompare(b.symbol));
  state.trades.length = Math.min(state.trades.length, 200);
}

export function fromTrade(t) {
  return { key: `t${t.id}`, kind: t.side, symbol: t.symbol, quantity: t.quantity, price: t.price, total: t.total, at: Date.parse(t.executed_at) };
}

export function fromSettlement(s) {
  return { key: `s${s.asset_id}`, kind: "settled", assetId: s.asset_id, symbol: s.symbol, quantity: s.quantity, price: s.price, total: s.value, at: Date.parse(s.settled_at) };
}
