// The device's network, as the browser reports it. Offline, no order can reach the server: the page
// says so at once (rather than after a trade's timeouts) and the trading controls are disabled;
// back online, the socket reconnects by itself and fills the gap.
import { state, emit } from "./state.js";
import * as toasts from "./toasts.js";

const NOTICE = "offline";

function changed() {
  state.online = navigator.onLine;
  if (state.online) {
    toasts.close(NOTICE);
  } else {
    toasts.toast({
      id: NOTICE, kind: "warning", title: "You’re offline",
      message: "Prices are paused and trading is off until the connection is back.", timeout: 0,
    });
  }
  emit("connection", state.connected);
}

export function watchNetwork() {
  window.addEventListener("online", changed);
  window.addEventListener("offline", changed);
  if (!navigator.onLine) changed();
}
