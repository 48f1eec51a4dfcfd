// Chart.js helpers: time on a linear axis (local zone, no adapter), doughnuts, the expiry line.
import { time, stamp, usd, price, pct } from "./format.js";
import { color, alpha } from "./theme.js";

const Chart = window.Chart;
const GRID = alpha(color("muted"), 0.12);

if (Chart) {
  Chart.defaults.color = color("muted");
  Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
  Chart.defaults.font.size = 11;
  Chart.defaults.borderColor = GRID;
}

// An axis label needs no more decimals than its step between ticks: "$0.50", not "$0.5000",
// and zero reads "$0" ("0%" on a chart of % since birth).
function yTick(kind) {
  return (v, _i, ticks) => {
    if (v === 0) return kind === "pct" ? "0%" : "$0";
    const step = ticks.length > 1 ? Math.abs(ticks[1].value - ticks[0].value) : Math.abs(v);
    const needed = step >= 1 || !step ? 0 : Math.max(kind === "pct" ? 1 : 2, Math.ceil(-Math.log10(step) - 1e-9));
    const places = Math.min(kind === "usd" ? 2 : 4, needed);
    const n = Math.abs(v).toLocaleString("en-US", { minimumFractionDigits: places, maximumFractionDigits: places });
    if (kind === "pct") return `${v < 0 ? "−" : "+"}${n}%`;
    return `${v < 0 ? "−" : ""}$${n}`;
  };
}

// A point's tooltip line: a marker says what it marks; a % point also gives its price.
function tipLine(kind) {
  return (item) => {
    const raw = item.raw || {};
    if (raw.note) return raw.note;
    if (kind === "pct") return `${item.dataset.label}: ${pct(item.parsed.y)}${raw.price !== undefined ? ` (${price(raw.price)})` : ""}`;
    return `${item.dataset.label}: ${kind === "usd" ? usd(item.parsed.y) : price(item.parsed.y)}`;
  };
}

/** Switch a line chart's y axis and tooltips between "price", "usd" and "pct". */
export function setUnits(chart, kind) {
  chart.options.scales.y.ticks.callback = yTick(kind);
  chart.options.plugins.tooltip.callbacks.label = tipLine(kind);
}

// The scheduled expiry: a dashed vertical line at each time in options.at that the x axis shows.
const expiryLine = {
  id: "expiryLine",
  afterDatasetsDraw(chart, _args, options) {
    const x = chart.scales.x;
    if (!options.at?.length || !hasData(chart) || !x) return;
    const { ctx, chartArea: area } = chart;
    ctx.save();
    ctx.strokeStyle = color("warn");
    ctx.fillStyle = color("warn");
    ctx.setLineDash([4, 4]);
    ctx.lineWidth = 1;
    ctx.font = `10px ${Chart.defaults.font.family}`;
    ctx.textAlign = "right";
    ctx.textBaseline = "top";
    for (const at of new Set(options.at)) {
      if (at < x.min || at > x.max) continue;
      const px = Math.round(x.getPixelForValue(at)) - 0.5;
      ctx.beginPath();
      ctx.moveTo(px, area.top);
      ctx.lineTo(px, area.bottom);
      ctx.stroke();
      ctx.fillText("expiry", px - 3, area.top + 2);
    }
    ctx.restore();
  },
};

const hasData = (chart) => chart.data.datasets.some((d) => d.data.length > 0);

// With no points, Chart.js draws a grid over 0..1 ms ("12:00:00 AM" six times): draw a line of
// text instead of axes.
const emptyState = {
  id: "emptyState",
  beforeUpdate(chart) {
    const shown = hasData(chart);
    chart.options.scales.x.display = shown;
    chart.options.scales.y.display = shown;
  },
  afterDraw(chart, _args, options) {
    if (hasData(chart)) return;
    const { ctx, chartArea: area } = chart;
    ctx.save();
    ctx.fillStyle = color("muted");
    ctx.font = `13px ${Chart.defaults.font.family}`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(options.text, (area.left + area.right) / 2, (area.top + area.bottom) / 2);
    ctx.restore();
  },
};

// Ticks closer than a second apart would repeat one "12:00:05" label: keep one per label.
function oneTickPerLabel(axis) {
  const seen = new Set();
  axis.ticks = axis.ticks.filter((t) => {
    const label = time(t.value);
    if (seen.has(label)) return false;
    seen.add(label);
    return true;
  });
}

/** A line chart of {x: ms, y} points. kind "usd" or "price"; compact hides the axes' clutter. */
export function lineChart(canvas, { kind = "price", compact = false, legend = false } = {}) {
  if (!Chart) return null;
  return new Chart(canvas, {
    type: "line",
    plugins: [emptyState, expiryLine],
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
          afterBuildTicks: oneTickPerLabel,
          ticks: { callback: (v) => time(v), maxTicksLimit: compact ? 4 : 6, maxRotation: 0, autoSkipPadding: 14 },
        },
        y: {
          position: "right",
          grid: { color: GRID },
          ticks: { callback: yTick(kind), maxTicksLimit: compact ? 5 : 6 },
        },
      },
      plugins: {
        emptyState: { text: kind === "usd" ? "No history yet" : "No prices to show" },
        expiryLine: { at: [] },
        // thousands of ticks over a whole life: at most a few points per pixel are drawn
        decimation: { enabled: true, algorithm: "min-max" },
        legend: { display: legend, labels: { boxWidth: 10, boxHeight: 10, usePointStyle: true } },
        tooltip: {
          callbacks: {
            title: (items) => (items.length ? stamp(items[0].parsed.x) : ""),
            label: tipLine(kind),
          },
        },
      },
    },
  });
}

export function series(label, color, data, extra = {}) {
  return { label, data, borderColor: color, backgroundColor: color, pointRadius: 0, ...extra };
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
