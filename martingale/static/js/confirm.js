// "Sell all positions?": a modal dialog first, then the sells one after another.
import { $, setText } from "./dom.js";
import { state } from "./state.js";
import { sellEverything, refusedOffline } from "./trade.js";
import { toast } from "./toasts.js";

export function confirmSellEverything() {
  if (refusedOffline()) return;
  const count = state.portfolio?.holdings.length || 0;
  if (!count) { toast({ kind: "info", message: "You hold no positions." }); return; }
  const dialog = $("#confirm-dialog");
  setText($('[data-role="confirm-text"]', dialog), `All ${count} position(s) will be sold at the current market price.`);
  dialog.addEventListener("close", () => { if (dialog.returnValue === "ok") sellEverything(); }, { once: true });
  dialog.returnValue = "";
  dialog.showModal();
}
