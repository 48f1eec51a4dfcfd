// What one order may be: a valid quantity, the most it can trade, and what it costs or brings.
import { atoms, value, maxQuantity, QTY } from "./decimal.js";
import { state, holding } from "./state.js";

/** Why a quantity can't be sent, or null. Up to 8 decimals, more than zero. */
export function quantityProblem(text) {
  const s = String(text || "").trim();
  if (!s) return "Enter a quantity.";
  if (!/^\d{1,10}(\.\d{1,8})?$/.test(s) && !/^\.\d{1,8}$/.test(s)) return "Use a number with at most 8 decimal places.";
  if (atoms(s, QTY) <= 0n) return "The quantity must be more than zero.";
  return null;
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
