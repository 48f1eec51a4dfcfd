// Chart.js helpers: time on a linear axis (local zone, no adapter), doughnuts, the avg-cost line.
import { time, stamp, usd, price } from "./format.js";
import { color, alpha } from "./theme.js";

const Chart = window.Chart;
const GRID = alpha(color("muted"), 0.12);

if (Chart) {
  Chart.defaults.color = color("muted");
  Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
  Chart.defaults.font.size = 11;
  Chart.defaults.borderColor = GRID;
}

function yTick(kind) {
  return kind === "usd" ? (v) => usd(v) : (v) => price(v);
}

/** A line chart of {x: ms, y} points. kind "usd" or "price"; compact hides the axes' clutter. */
export function lineChart(canvas, { kind = "price", compact = false, legend = false } = {}) {
  if (!Chart) return null;
  return new Chart(canvas, {
    type: "line",
    data: { datasets: [] },
    options: {
      animation: false,
      parsing: false,
      normalized: true,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: "nearest", axis: "x", intersect: false },
      elements: { point: { radius: 0, hoverRadius: 3 }, line: { borderWidth: compact ? 2 : 1.6, tension: 0 } },
      scales: {
        x: {
          type: "linear",
          grid: { display: !compact, color: GRID },
          ticks: { callback: (v) => time(v), maxTicksLimit: compact ? 4 : 6, maxRotation: 0, autoSkipPadding: 14 },
        },
        y: {
          position: "right",
          grid: { color: GRID },
          ticks: { callback: yTick(kind), maxTicksLimit: compact ? 5 : 6 },
        },
      },
      plugins: {
        legend: { display: legend, labels: { boxWidth: 10, boxHeight: 10, usePointStyle: true } },
        tooltip: {
          callbacks: {
            title: (items) => (items.length ? stamp(items[0].parsed.x) : ""),
            label: (item) => `${item.dataset.label}: ${kind === "usd" ? usd(item.parsed.y) : price(item.parsed.y)}`,
          },
        },
      },
    },
  });
}

export function series(label, color, data, extra = {}) {
  return { label, data, borderColor: color, backgroundColor: color, pointRadius: 0, ...extra };
}

/** The dashed average-cost line across the data's time span, or nothing. */
export function avgCostSeries(avgCost, data) {
  if (!avgCost || data.length < 1) return null;
  const y = Number(avgCost);
  const x0 = data[0].x;
  const x1 = data[data.length - 1].x;
  return series(`Avg cost ${price(avgCost)}`, color("cyan"), [{ x: x0, y }, { x: x1, y }], { borderDash: [6, 4], borderWidth: 1.4 });
}

/** The allocation doughnut: cash plus one slice per holding. */
export function doughnut(canvas) {
  if (!Chart) return null;
  return new Chart(canvas, {
    type: "doughnut",
    data: { labels: [], datasets: [{ data: [], backgroundColor: [], borderColor: color("panel"), borderWidth: 2 }] },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      cutout: "62%",
      plugins: {
        legend: { position: "bottom", labels: { boxWidth: 10, boxHeight: 10, padding: 10 } },
        tooltip: {
          callbacks: {
            label: (item) => {
              const total = item.dataset.data.reduce((a, b) => a + b, 0) || 1;
              return `${item.label}: ${usd(item.parsed)} (${((item.parsed / total) * 100).toFixed(1)}%)`;
            },
          },
        },
      },
    },
  });
}

export function setAllocation(chart, slices) {
  if (!chart) return;
  chart.data.labels = slices.map((s) => s.label);
  chart.data.datasets[0].data = slices.map((s) => s.value);
  chart.data.datasets[0].backgroundColor = slices.map((s) => s.color);
  chart.update("none");
}
