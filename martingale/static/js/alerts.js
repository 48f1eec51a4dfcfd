// Warnings for held assets about to expire: at 2 minutes, then a live countdown in the last one.
import { state, on, secondsLeft } from "./state.js";
import { toast, close, isOpen } from "./toasts.js";
import * as fmt from "./format.js";

export const WARN_S = 120; // also when the phone apps notify (wrapper.js)
const SNOOZE_MS = 60_000;
const SHOW_MS = 10_000;
const snoozed = new Map(); // symbol -> performance.now() until which it stays quiet
const shown = new Map(); // symbol -> the last phase shown: 1 at two minutes, 2 in the last one

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
    // each phase shows once for a few seconds (its countdown running); it does not sit on the page
    const phase = final ? 2 : 1;
    if (!isOpen(id) && (shown.get(symbol) || 0) >= phase) continue;
    shown.set(symbol, phase);
    toast({
      id,
      kind: "warning",
      title: final ? `${symbol} expires in ${fmt.mmss(left)}` : `${symbol} expires soon (${fmt.countdown(left)})`,
      message: final
        ? `Holding ${units} unit(s). It settles to cash at the last price.`
        : `Holding ${units} unit(s). Sell now or it settles at expiry.`,
      timeout: SHOW_MS,
      onClose: () => snoozed.set(symbol, performance.now() + SNOOZE_MS),
    });
  }
  // holdings whose asset is already gone
  for (const symbol of held.keys()) if (!state.assets.has(symbol)) close(`expiry-${symbol}`);
}

export function forget(symbol) {
  close(`expiry-${symbol}`);
  snoozed.delete(symbol);
  shown.delete(symbol);
}
