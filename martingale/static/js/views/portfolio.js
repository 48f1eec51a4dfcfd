// The portfolio value over time, as a filled line in the accent colour.
import { lineChart, series } from "../charts.js";
import { state } from "../state.js";
import { color, alpha } from "../theme.js";

export function portfolioChart(canvas, { compact = false } = {}) {
  const chart = lineChart(canvas, { kind: "usd", compact });
  const accent = color("accent");
  if (chart) chart.data.datasets = [series("Portfolio value", accent, [], { fill: "start", backgroundColor: alpha(accent, 0.12) })];
  return {
    draw() {
      if (!chart) return;
      chart.data.datasets[0].data = state.performance; // main.js replaces the array at load
      chart.update("none");
    },
  };
}
