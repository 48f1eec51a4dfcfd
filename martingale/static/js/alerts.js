// Warnings for held assets about to expire: at 2 minutes, then a live countdown in the last one.
import { state, on, secondsLeft } from "./state.js";
import { toast, close, isOpen } from "./toasts.js";
import * as fmt from "./format.js";

export const WARN_S = 120; // also when the phone apps notify (wrapper.js)
const SNOOZE_MS = 60_000;
const snoozed = new Map(); // symbol -> performance.now() until which it stays quiet

/** Warn from the loaded state now, then on every change. */
export function init() {
  on("second", check);
  on("tick", check);
  on("portfolio", check);
  check();
}

function check() {
  const held = new Map((state.portfolio?.holdings || []).map((h) => [h.symbol, h]));
  for (const symbol of state.assets.keys()) {
    const id = `expiry-${symbol}`;
    const h = held.get(symbol);
    const left = secondsLeft(state.assets.get(symbol));
    const quiet = (snoozed.get(symbol) || 0) > performance.now();
    if (!h || left <= 0 || left > WARN_S || quiet) {
      if (isOpen(id)) close(id);
      continue;
    }
    const units = fmt.qty(h.quantity);
    const final = left <= 60;
    toast({
      id,
      kind: "warning",
      title: final ? `${symbol} expires in ${fmt.mmss(left)}` : `${symbol} expires soon (${fmt.countdown(left)})`,
      message: final
        ? `Holding ${units} unit(s). It settles to cash at the last price.`
        : `Holding ${units} unit(s). Sell now or it settles at expiry.`,
      timeout: 0,
      onClose: () => snoozed.set(symbol, performance.now() + SNOOZE_MS),
    });
  }
  // holdings whose asset is already gone
  for (const symbol of held.keys()) if (!state.assets.has(symbol)) close(`expiry-${symbol}`);
}

export function forget(symbol) {
  close(`expiry-${symbol}`);
  snoozed.delete(symbol);
}
