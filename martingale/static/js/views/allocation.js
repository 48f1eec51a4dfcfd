// The allocation doughnut: cash plus one slice per position at the latest prices.
import { doughnut, setAllocation } from "../charts.js";
import { toNumber, USD } from "../decimal.js";
import { state } from "../state.js";
import { color } from "../theme.js";

export function allocationChart(canvas) {
  const chart = doughnut(canvas);
  return {
    /** Redraw from a liveAccount(). */
    draw(a) {
      setAllocation(chart, [
        { label: "Cash", value: toNumber(a.cash, USD), color: color("cash") },
        ...a.positions.map((p) => ({ label: p.symbol, value: toNumber(p.marketValue, USD), color: state.assets.get(p.symbol)?.color || color("accent") })),
      ]);
    },
  };
}
