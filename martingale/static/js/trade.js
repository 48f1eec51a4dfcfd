// Placing trades: one idempotency key per order, kept for a retry until the server answers. An
// order that got no answer is asked after by its key once the connection is back (GET
// /api/v1/orders/<key>), and the player is told whether it went through.
import { sendTrade, whenConnected } from "./socket.js";
import { state, on, emit, setPortfolio, addOwn, fromTrade, holding } from "./state.js";
import { toast, close as closeToast } from "./toasts.js";
import { qty, price, usd, signedUsd } from "./format.js";
import { atoms, text } from "./decimal.js";
import { quantityProblem, amountProblem, limitPriceFor, tolerance } from "./order.js";
import { refusalText } from "./refusals.js";
import * as api from "./api.js";

// "SYM|side|size" -> {key, order}: an order that got no answer, sent again exactly as it was
// (the same limit price too) when the player presses the button again: the key makes it safe
const retries = new Map();
// key -> {order, words}: orders that got no answer, to ask after once connected
const unanswered = new Map();
let asking = null;

function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

async function attempt(order) {
  for (let tries = 0; tries < 2; tries += 1) {
    if (!(await whenConnected(5000))) continue;
    try {
      return await sendTrade(order);
    } catch {
      // no answer: the same key makes a second try safe
    }
  }
  return null;
}

/** True, with a toast saying why, when the device is offline and no order can go out. */
export function refusedOffline() {
  if (state.online) return false;
  toast({ id: "order-offline", kind: "error", title: "Order not sent", message: "You’re offline: trading resumes when the connection is back." });
  return true;
}

/** What an order is, in a player's words: "buy of 2 XSL", "buy of $250.00 of XSL". */
function orderWords(order) {
  return order.amount !== undefined
    ? `${order.side} of ${usd(order.amount)} of ${order.symbol}`
    : `${order.side} of ${qty(order.quantity)} ${order.symbol}`;
}

/** The fill beside the estimate: "at $4.10 (estimate $4.05: +$0.05, +1.23% per unit)". */
export function fillText(trade, estimate) {
  const fill = `at ${price(trade.price)}`;
  if (!estimate) return fill;
  const diff = atoms(trade.price, 8) - atoms(estimate, 8);
  if (diff === 0n) return `${fill}, as estimated`;
  const per = signedUsd(text(diff / 100n, 6)).replace(/\$0\.00$/, "<$0.01");
  const bp = (diff * 10000n) / atoms(estimate, 8); // hundredths of a percent
  const pct = `${bp < 0n ? "−" : "+"}${(Number(bp < 0n ? -bp : bp) / 100).toFixed(2)}%`;
  return `${fill} (estimate ${price(estimate)}: ${per}, ${pct} per unit)`;
}

/** Send a market order; resolves to the trade, or null after showing why not: through
 *  onRefused(text) when the form that sent it shows its own errors (a toast would sit under a
 *  modal sheet's backdrop), else as a toast. `size`: a quantity (units, decimal string) or
 *  {amount} (dollars: a buy of as many units as the amount pays for). The player's slippage
 *  tolerance bounds the price, from the price on screen now (`estimate`, the receipt's too). */
export async function placeTrade(symbol, side, size, { quiet = false, onRefused = null, tolerate = tolerance() } = {}) {
  if (refusedOffline()) return null;
  const amount = typeof size === "object" && size !== null ? String(size.amount).trim() : null;
  const problem = amount !== null ? amountProblem(amount) : quantityProblem(size);
  if (problem) { toast({ kind: "error", title: "Order not sent", message: problem }); return null; }
  const estimate = state.assets.get(symbol)?.price ?? null;
  const id = `${symbol}|${side}|${amount !== null ? `$${amount}` : String(size).trim()}`;
  let retry = retries.get(id);
  if (!retry) {
    const order = { symbol, side, ...(amount !== null ? { amount } : { quantity: String(size).trim() }) };
    const limit = limitPriceFor(side, estimate, tolerate);
    if (limit) order.limit_price = limit;
    retry = { key: uuid(), order, estimate, tolerate };
    retries.set(id, retry);
  }
  const { key, order } = retry;
  emit("trading", true);
  try {
    const reply = await attempt({ ...order, idempotency_key: key });
    if (!reply) {
      unanswered.set(key, { id, order, estimate: retry.estimate });
      toast({
        id: `unanswered-${key}`, kind: "error", title: "No answer from the server", timeout: 0,
        message: `Your ${orderWords(order)} may not have gone through. Once the connection is back we’ll ask the server and tell you.`,
      });
      if (state.connected) setTimeout(askAfterUnanswered, 2000); // answered late, or lost on the way
      return null;
    }
    retries.delete(id);
    if (reply.error) {
      const words = refusalText(reply.error, { ...order, tolerance: retry.tolerate });
      if (onRefused) onRefused(words);
      else toast({ kind: "error", title: `${side === "buy" ? "Buy" : "Sell"} refused`, message: words });
      return null;
    }
    setPortfolio(reply.portfolio);
    addOwn([fromTrade(reply.trade)]);
    emit("portfolio", reply.portfolio);
    emit("own_trade", reply.trade);
    const t = reply.trade;
    if (!quiet) {
      toast({ kind: "success", title: t.side === "buy" ? "Bought" : "Sold", message: `${t.side === "buy" ? "Bought" : "Sold"} ${qty(t.quantity)} ${t.symbol} ${fillText(t, retry.estimate)}` });
    }
    return t;
  } finally {
    emit("trading", false);
  }
}

/** Ask the server what became of every order that got no answer, and tell the player. An order
 *  that never reached the books is final once nothing carrying its key is on its way: a trade is
 *  one transaction, and its request was abandoned when it timed out. */
export function askAfterUnanswered() {
  if (!unanswered.size || !state.connected) return asking;
  asking ??= (async () => {
    try {
      for (const [key, pending] of [...unanswered]) {
        let trade = null;
        try {
          trade = (await api.get(`/orders/${encodeURIComponent(key)}`)).trade;
        } catch (err) {
          if (err?.code !== "unknown_order") continue; // unreachable again: ask at the next connection
          // not on the books: believed once a second answer, a moment later, says so too (a
          // request still on its way, on a slow line, would have landed by then)
          if (!pending.missing) { pending.missing = true; setTimeout(askAfterUnanswered, 3000); continue; }
        }
        unanswered.delete(key);
        retries.delete(pending.id);
        const words = orderWords(pending.order);
        closeToast(`unanswered-${key}`);
        if (trade) {
          addOwn([fromTrade(trade)]);
          emit("own_trade", trade);
          try {
            const account = await api.get("/portfolio");
            setPortfolio(account);
            emit("portfolio", account);
          } catch { /* the next push or gap fill brings it */ }
          toast({ id: `outcome-${key}`, kind: "success", title: "Order went through", timeout: 12000,
                  message: `Your ${words} went through ${fillText(trade, pending.estimate)}.` });
        } else {
          toast({ id: `outcome-${key}`, kind: "warning", title: "Order did not go through", timeout: 12000,
                  message: `Your ${words} did not go through: nothing was ${pending.order.side === "buy" ? "bought" : "sold"}. Place it again if you still want it.` });
        }
      }
    } finally {
      asking = null;
    }
  })();
  return asking;
}

on("connection", (connected) => { if (connected) askAfterUnanswered(); });

/** Sell the whole holding of one symbol. */
export function sellAll(symbol) {
  const h = holding(symbol);
  if (!h) { toast({ kind: "info", message: `You hold no ${symbol}.` }); return Promise.resolve(null); }
  // at market, whatever the tolerance: an exit (often just before expiry) is not to be refused
  return placeTrade(symbol, "sell", h.quantity, { tolerate: "off" });
}

/** Sell every holding, one after another; a summary toast at the end. */
export async function sellEverything() {
  const symbols = (state.portfolio?.holdings || []).map((h) => h.symbol);
  if (!symbols.length) { toast({ kind: "info", message: "You hold no positions." }); return; }
  const progress = toast({ id: "sell-all", kind: "info", message: `Selling ${symbols.length} position(s)…`, timeout: 0, record: false });
  let sold = 0;
  for (const [i, symbol] of symbols.entries()) {
    progress.update(`Selling ${symbols.length} position(s)… (${i + 1}/${symbols.length})`);
    const h = holding(symbol);
    if (h && (await placeTrade(symbol, "sell", h.quantity, { quiet: true, tolerate: "off" }))) sold += 1;
  }
  progress.close();
  const failed = symbols.length - sold;
  toast(failed
    ? { kind: "warning", message: `Sold ${sold}/${symbols.length} position(s) (${failed} failed).` }
    : { kind: "success", message: `Sold all ${sold} position(s).` });
}
