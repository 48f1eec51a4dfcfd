// The notification history: every toast (and the news that pops none) for a player to read back,
// behind a button with a count of what arrived since it was last opened.
import { h, $, $$, fill, setText } from "./dom.js";
import * as toasts from "./toasts.js";
import * as fmt from "./format.js";

let recorded = 0; // notifications so far
let seen = 0; // how many of them the player has had on screen in the list

export function init() {
  const dialog = $("#notif-dialog");
  if (!dialog) return;
  for (const b of $$('[data-role="notif-open"]')) {
    b.addEventListener("click", () => { render(dialog); dialog.showModal(); seen = total(); badge(); });
  }
  toasts.onRecord(() => { recorded += 1; badge(); if (dialog.open) { render(dialog); seen = total(); } });
}

const total = () => recorded;

function badge() {
  const unseen = Math.min(total() - seen, 99);
  for (const b of $$('[data-role="notif-count"]')) {
    b.hidden = unseen <= 0;
    setText(b, String(unseen));
  }
  for (const b of $$('[data-role="notif-open"]')) {
    b.setAttribute("aria-label", unseen > 0 ? `Notifications, ${unseen} new` : "Notifications");
  }
}

function render(dialog) {
  const past = toasts.history();
  $('[data-role="notif-empty"]', dialog).hidden = past.length > 0;
  fill($('[data-role="notif-list"]', dialog), past.map((n) =>
    h("li", { class: `notif notif-${n.kind}` },
      h("time", { class: "mono muted", text: fmt.time(n.at) }),
      h("div", {}, n.title ? h("strong", { text: n.title }) : null, h("span", { text: ` ${n.message}` })))));
}
