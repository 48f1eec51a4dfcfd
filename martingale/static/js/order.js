// What one order may be: a valid quantity, the most it can trade, and what it costs or brings.
import { atoms, text, value, maxQuantity, QTY, USD } from "./decimal.js";
import { state, holding } from "./state.js";
import * as fmt from "./format.js";

const MAX_QUANTITY = 10n ** 17n; // 1,000,000,000 units in atoms of 10^-8 (money.MAX_QUANTITY)

/** Why a quantity can't be sent, or null: the server's grammar (validators.QUANTITY), one message
 *  per problem. Surrounding spaces typed into the field are trimmed before sending. */
export function quantityProblem(text) {
  const s = String(text || "").trim();
  if (!s) return "Enter a quantity.";
  if (s.length > 64) return "Use at most 64 characters.";
  if (!/^[0-9]+(\.[0-9]+)?$/.test(s)) return grammarProblem(s);
  if (!/^[0-9]+(\.[0-9]{1,8})?$/.test(s)) return "Use at most 8 decimal places.";
  const n = atoms(s, QTY);
  if (n <= 0n) return "The quantity must be more than zero.";
  if (n > MAX_QUANTITY) return "The quantity must be at most 1,000,000,000.";
  return null;
}

// What is wrong with a quantity the grammar refuses, in the player's terms: the common slips
// first (a sign, separators, an exponent), the general rule last.
function grammarProblem(s) {
  if (s.startsWith("-")) return "A quantity can't be negative: to reduce a position, sell it.";
  if (s.startsWith("+")) return "Leave out the + sign.";
  if (/^[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$/.test(s)) return "Leave out the thousands separators: 1000, not 1,000.";
  if (/^[0-9]+,[0-9]+$/.test(s)) return "Use a point for decimals: 0.5, not 0,5.";
  if (/^[0-9.]+e[-+]?[0-9]+$/i.test(s)) return "Write the number out in full: 1000, not 1e3.";
  if (/[\s_]/.test(s)) return "Leave out spaces and underscores.";
  if (/\p{Nd}/u.test(s) && !/^[0-9.]+$/.test(s)) return "Use the digits 0-9 only.";
  if ((s.match(/\./g) || []).length > 1) return "Use one decimal point at most.";
  if (s.startsWith(".")) return "Put a digit before the point: 0.5, not .5.";
  if (s.endsWith(".")) return "Put a digit after the point, or leave the point out.";
  return "Use the digits 0-9 and at most one decimal point, such as 2 or 0.5.";
}

/** The largest quantity (decimal string) a buy can pay for with the cash, or a sell can deliver. */
export function maxOrderQuantity(side, symbol) {
  if (side !== "buy") return holding(symbol)?.quantity ?? "0";
  const asset = state.assets.get(symbol);
  return asset ? maxQuantity(state.portfolio?.cash ?? "0", asset.price) : "0";
}

/** USD atoms a valid quantity is worth at the symbol's last price, or null when there is none. */
export function orderValue(symbol, quantity) {
  const asset = state.assets.get(symbol);
  return asset && quantity && !quantityProblem(quantity) ? value(quantity, asset.price) : null;
}

/** Why a well-formed order would be refused for what the player has, or null: the forms say so
 *  before sending instead of estimating proceeds of units the player does not hold. */
export function limitProblem(side, symbol, quantity) {
  if (!symbol || quantityProblem(quantity)) return null;
  const q = atoms(quantity, QTY);
  if (side === "sell") {
    const held = holding(symbol);
    if (!held) return `You hold no ${symbol} to sell.`;
    return q > atoms(held.quantity, QTY) ? `You hold ${fmt.qty(held.quantity)} ${symbol}: sell at most that.` : null;
  }
  const worth = orderValue(symbol, quantity);
  const cash = atoms(state.portfolio?.cash ?? "0", USD);
  return worth !== null && worth > cash
    ? `That costs about ${fmt.usd(worth)} and you have ${fmt.usd(cash)}: Max buys the most you can.`
    : null;
}

// -- orders in dollars, percentages and a slippage tolerance (issue 11, items 12 and 13) --------

const PRICE = 8;
const MAX_AMOUNT = 10n ** 16n; // $10,000,000,000 in micro-dollars (money.MAX_TRADE_VALUE)

/** Why a dollar amount can't be sent, or null (validators.AMOUNT: at most 6 places). */
export function amountProblem(input) {
  const s = String(input || "").trim();
  if (!s) return "Enter an amount in dollars.";
  if (s.startsWith("$")) return "Leave out the $ sign: 250, not $250.";
  if (s.startsWith("-")) return "An amount can't be negative.";
  if (/,/.test(s)) return "Leave out the thousands separators: 1000, not 1,000.";
  if (!/^[0-9]+(\.[0-9]+)?$/.test(s)) return "Write dollars with the digits 0-9 and at most one decimal point, such as 250 or 99.50.";
  if (!/^[0-9]+(\.[0-9]{1,6})?$/.test(s)) return "Use at most 6 decimal places.";
  const n = atoms(s, USD);
  if (n <= 0n) return "The amount must be more than zero.";
  if (n > MAX_AMOUNT) return "The amount must be at most $10,000,000,000.";
  return null;
}

/** Units (atoms) an amount buys at price, as the server sizes it: the most whose cost,
 *  rounded up to a micro-dollar, is at most the amount (trading.units_for). */
export function unitsFor(amount, price) {
  const p = atoms(price, PRICE);
  return p > 0n ? (atoms(amount, USD) * 10n ** BigInt(QTY + PRICE - USD)) / p : 0n;
}

/** What a ticket shows for what the player typed: `problem` (the input itself), `limit` (it
 *  would be refused for what the player has), `worth` (USD atoms, or null) and `units` (the
 *  quantity an amount buys, atoms). In dollars, sells are sized in units (the server's rule). */
export function ticketFigures(side, symbol, inDollars, input) {
  const s = String(input || "").trim();
  if (!inDollars || side !== "buy") {
    const limit = limitProblem(side, symbol, s);
    return { problem: quantityProblem(s), limit, worth: limit ? null : orderValue(symbol, s), units: null };
  }
  const problem = amountProblem(s);
  const asset = state.assets.get(symbol);
  if (problem || !asset) return { problem, limit: null, worth: null, units: null };
  const amount = atoms(s, USD);
  const cash = atoms(state.portfolio?.cash ?? "0", USD);
  const units = unitsFor(s, asset.price);
  let limit = null;
  if (amount > cash) limit = `You have ${fmt.usd(cash)}: spend at most that (100% spends it all).`;
  else if (units <= 0n) limit = `${fmt.usd(amount)} buys nothing at ${fmt.price(asset.price)}: enter more.`;
  return { problem: null, limit, worth: limit ? null : amount, units: limit ? null : units };
}

/** A share of what the player has, as the input's text: a buy spends pct% of the cash (in
 *  dollars); a sell sells pct% of the holding (in units, 100% exactly all of it). */
export function shareOf(side, symbol, pct) {
  const n = BigInt(pct);
  if (side === "buy") return text((atoms(state.portfolio?.cash ?? "0", USD) * n) / 100n, USD).replace(/\.?0+$/, "") || "0";
  const held = holding(symbol);
  if (!held) return "0";
  return fmt.plainQty(n === 100n ? held.quantity : text((atoms(held.quantity, QTY) * n) / 100n, QTY));
}

export const TOLERANCES = ["1", "2", "5", "off"];
const TOLERANCE_KEY = "martingale.slippage";

/** The player's slippage tolerance: a percentage, or "off" (any price, as before). */
export function tolerance() {
  let saved = null;
  try { saved = localStorage.getItem(TOLERANCE_KEY); } catch { /* storage blocked: the default */ }
  return TOLERANCES.includes(saved) ? saved : "off";
}

export function setTolerance(value) {
  if (!TOLERANCES.includes(value)) return;
  try { localStorage.setItem(TOLERANCE_KEY, value); } catch { /* kept for this page only */ }
}

/** The limit price (8-place string) a tolerance allows from price: a buy's highest (rounded
 *  down), a sell's lowest (rounded up); null when off. */
export function limitPriceFor(side, price, pct = tolerance()) {
  if (pct === "off" || !price) return null;
  const p = atoms(price, PRICE);
  const n = BigInt(pct);
  const limit = side === "buy" ? (p * (100n + n)) / 100n : (p * (100n - n) + 99n) / 100n;
  return limit > 0n ? text(limit, PRICE) : null;
}

/** The tolerance in words, beside the estimate. */
export function toleranceText(side, symbol, pct = tolerance()) {
  const asset = state.assets.get(symbol);
  if (!asset) return "";
  if (pct === "off") return "Fills at the price when the order arrives, however far it has moved.";
  return `Fills within ${pct}% of ${fmt.price(asset.price)} or not at all.`;
}
