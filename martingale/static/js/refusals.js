import { price } from "./format.js";

// The server's refusal codes in a player's words; its own message (lower-case, terse) only for
// codes this list does not know yet.
const WORDS = {
  insufficient_funds: "Not enough cash for this order at the current price. Try a smaller quantity, or Max.",
  insufficient_holdings: "You don't hold that many units. Sell at most what you hold.",
  asset_not_tradable: "This asset has expired or is settling: it can't be traded any more.",
  unknown_asset: "This asset is no longer listed.",
  trading_halted: "Trading is paused for maintenance. Prices keep moving; try again shortly.",
  rate_limited: "Too many orders in a short time. Wait a moment, then try again.",
  trade_value_too_large: "That order is too large. Try a smaller quantity.",
  invalid_quantity: "That quantity can't be traded. Use a number such as 2 or 0.5.",
  invalid_amount: "That amount can't be traded. Use dollars such as 250 or 99.50 (sells are in units).",
  amount_too_small: "That amount buys nothing at the current price. Enter more.",
  invalid_limit_price: "The price limit was not understood. Choose a slippage tolerance again.",
  duplicate_request: "That order was already sent with different details. Enter it again.",
  unauthorized: "Your session has ended. Log in again to trade.",
  invalid_token: "Your session has ended. Log in again to trade.",
};

/** A sentence for a refused order: {code, message} from the server; `order` (what was sent, with
 *  the player's tolerance) puts a moved price in the player's terms. */
export function refusalText(error, order = null) {
  if (error?.code === "price_moved") return priceMoved(order);
  if (WORDS[error?.code]) return WORDS[error.code];
  const text = String(error?.message || "The order was refused.");
  return text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? "" : ".");
}

function priceMoved(order) {
  const done = order?.side === "sell" ? "sold" : "bought";
  const limit = order?.limit_price ? ` (${order.side === "sell" ? "at least" : "at most"} ${price(order.limit_price)})` : "";
  const within = order?.tolerance && order.tolerance !== "off" ? `more than your ${order.tolerance}% tolerance${limit}` : `past your limit${limit}`;
  return `The price moved ${within} before the order arrived, so nothing was ${done}. Try again, or allow more slippage.`;
}
