// What one order may be: a valid quantity, the most it can trade, and what it costs or brings.
import { atoms, value, maxQuantity, QTY, USD } from "./decimal.js";
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
