// The leaderboard table: rank, player (the signed-in one marked, each a link to their profile),
// total P&L.
import { h, setTone, setText } from "../dom.js";
import * as fmt from "../format.js";
import { profileHref } from "../shell.js";
import { state, liveAccount } from "../state.js";

export function renderLeaders(tbody) {
  renderMyRank(tbody.closest("section, .m-panel")?.querySelector('[data-role="my-rank"]'));
  // rows are updated in place, not rebuilt: a pass every few seconds must not swap the link out
  // from under a pointer between its press and its release
  const rows = [...tbody.rows];
  state.leaders.forEach((r, i) => {
    const row = rows[i] || tbody.appendChild(leaderRow());
    const [rank, name, pnl] = row.cells;
    row.className = r.display_name === state.displayName ? "mine" : "";
    setText(rank, `#${r.rank}`);
    const link = name.firstElementChild;
    setText(link, r.display_name);
    const href = profileHref(r.display_name);
    if (link.getAttribute("href") !== href) link.setAttribute("href", href);
    setText(pnl, `${fmt.arrow(fmt.sign(r.total_pnl))} ${fmt.signedUsd(r.total_pnl)}`);
    setTone(pnl, fmt.sign(r.total_pnl));
  });
  rows.slice(state.leaders.length).forEach((row) => row.remove());
}

function leaderRow() {
  return h("tr", {}, h("td", { class: "mono" }), h("th", { scope: "row" }, h("a", { class: "player-link" })),
    h("td", { class: "num mono" }));
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
