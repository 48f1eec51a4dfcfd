// Placing trades: one idempotency key per order, kept for a retry until the server answers.
import { sendTrade, whenConnected } from "./socket.js";
import { state, emit, setPortfolio, addOwn, fromTrade, holding } from "./state.js";
import { toast } from "./toasts.js";
import { qty, price } from "./format.js";
import { quantityProblem } from "./order.js";
import { refusalText } from "./refusals.js";

const retryKeys = new Map(); // "SYM|side|qty" -> key of an order that got no answer

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

/** Send a market order; resolves to the trade, or null after showing why not: through
 *  onRefused(text) when the form that sent it shows its own errors (a toast would sit under a
 *  modal sheet's backdrop), else as a toast. */
export async function placeTrade(symbol, side, quantity, { quiet = false, onRefused = null } = {}) {
  if (refusedOffline()) return null;
  const problem = quantityProblem(quantity);
  if (problem) { toast({ kind: "error", title: "Order not sent", message: problem }); return null; }
  const q = String(quantity).trim();
  const id = `${symbol}|${side}|${q}`;
  const key = retryKeys.get(id) || uuid();
  retryKeys.set(id, key);
  emit("trading", true);
  try {
    const reply = await attempt({ symbol, side, quantity: q, idempotency_key: key });
    if (!reply) {
      toast({ kind: "error", title: "No answer from the server", message: `Your ${side} of ${symbol} may not have gone through. Press ${side === "buy" ? "Buy" : "Sell"} again to retry it safely.` });
      return null;
    }
    retryKeys.delete(id);
    if (reply.error) {
      const text = refusalText(reply.error);
      if (onRefused) onRefused(text);
      else toast({ kind: "error", title: `${side === "buy" ? "Buy" : "Sell"} refused`, message: text });
      return null;
    }
    setPortfolio(reply.portfolio);
    addOwn([fromTrade(reply.trade)]);
    emit("portfolio", reply.portfolio);
    emit("own_trade", reply.trade);
    const t = reply.trade;
    if (!quiet) {
      toast({ kind: "success", title: t.side === "buy" ? "Bought" : "Sold", message: `${t.side === "buy" ? "Bought" : "Sold"} ${qty(t.quantity)} ${t.symbol} at ${price(t.price)}` });
    }
    return t;
  } finally {
    emit("trading", false);
  }
}

/** Sell the whole holding of one symbol. */
export function sellAll(symbol) {
  const h = holding(symbol);
  if (!h) { toast({ kind: "info", message: `You hold no ${symbol}.` }); return Promise.resolve(null); }
  return placeTrade(symbol, "sell", h.quantity);
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
    if (h && (await placeTrade(symbol, "sell", h.quantity, { quiet: true }))) sold += 1;
  }
  progress.close();
  const failed = symbols.length - sold;
  toast(failed
    ? { kind: "warning", message: `Sold ${sold}/${symbols.length} position(s) (${failed} failed).` }
    : { kind: "success", message: `Sold all ${sold} position(s).` });
}
