// The leaderboard table: rank, player (the signed-in one marked), total P&L.
import { h, fill, setTone, setText } from "../dom.js";
import * as fmt from "../format.js";
import { state, liveAccount } from "../state.js";

export function renderLeaders(tbody) {
  renderMyRank(tbody.closest("section, .m-panel")?.querySelector('[data-role="my-rank"]'));
  fill(tbody, state.leaders.map((r) => {
    const pnl = h("td", { class: "num mono", text: `${fmt.arrow(fmt.sign(r.total_pnl))} ${fmt.signedUsd(r.total_pnl)}` });
    setTone(pnl, fmt.sign(r.total_pnl));
    return h("tr", { class: r.display_name === state.displayName ? "mine" : "" },
      h("td", { class: "mono", text: `#${r.rank}` }), h("th", { scope: "row", text: r.display_name }), pnl);
  }));
}

/** The player's own standing, in or outside the top rows: the rank of the last ranking pass
 *  that placed them, and the return as of now. */
export function renderMyRank(el) {
  if (!el) return;
  const mine = state.leaders.find((r) => r.display_name === state.displayName) || state.me;
  const live = liveAccount();
  const ret = live ? fmt.pct(live.ret) : mine ? `${mine.return_pct}%` : "—";
  const of = state.players ? ` of ${state.players.toLocaleString("en-US")}` : "";
  setText(el, mine ? `You: #${mine.rank.toLocaleString("en-US")}${of} · ${ret}` : `You: not ranked yet · ${ret}`);
}
