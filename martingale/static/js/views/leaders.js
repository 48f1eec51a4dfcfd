// The leaderboard table: rank, player (the signed-in one marked), total P&L.
import { h, fill, setTone } from "../dom.js";
import * as fmt from "../format.js";
import { state } from "../state.js";

export function renderLeaders(tbody) {
  fill(tbody, state.leaders.map((r) => {
    const pnl = h("td", { class: "num mono", text: `${fmt.arrow(fmt.sign(r.total_pnl))} ${fmt.signedUsd(r.total_pnl)}` });
    setTone(pnl, fmt.sign(r.total_pnl));
    return h("tr", { class: r.display_name === state.displayName ? "mine" : "" },
      h("td", { class: "mono", text: `#${r.rank}` }), h("th", { scope: "row", text: r.display_name }), pnl);
  }));
}
