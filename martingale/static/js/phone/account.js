// The phone's Account tab: figures, holdings, allocation and the portfolio value over time.
import { h, fill, $, assetColor } from "../dom.js";
import * as fmt from "../format.js";
import { state, liveAccount } from "../state.js";
import { renderAccountStats } from "../views/account.js";
import { allocationChart } from "../views/allocation.js";
import { portfolioChart } from "../views/portfolio.js";

export function accountTab(panel) {
  const allocation = allocationChart($("#m-alloc-chart", panel));
  const pv = portfolioChart($("#m-pv-chart", panel), { compact: true });

  function holdingItem(p) {
    const tone = fmt.sign(p.pnl) > 0 ? "up" : fmt.sign(p.pnl) < 0 ? "down" : "";
    const li = h("li", { class: "m-holding", dataset: { symbol: p.symbol } },
      h("span", { class: "sym", text: p.symbol }),
      h("span", { class: "mono", text: `${fmt.qty(p.quantity)} @ ${fmt.price(p.avg_cost)}` }),
      h("span", { class: `mono ${tone}`, text: `${fmt.arrow(fmt.sign(p.pnl))} ${fmt.signedUsd(p.pnl)}` }));
    return assetColor(li, state.assets.get(p.symbol)?.color);
  }

  /** Figures and allocation at the latest prices. */
  function renderFigures() {
    const a = liveAccount();
    if (!a) return;
    renderAccountStats($(".m-stats", panel), a);
    allocation.draw(a);
  }

  return {
    shown: () => !panel.hidden,
    renderFigures,
    /** Everything that follows the portfolio: figures, allocation, the holdings list. */
    render() {
      renderFigures();
      const a = liveAccount();
      fill($("#m-holdings", panel), a.positions.length
        ? a.positions.map(holdingItem)
        : [h("li", { class: "empty", text: "No positions. Cash only." })]);
    },
    drawPerformance: () => pv.draw(),
  };
}
