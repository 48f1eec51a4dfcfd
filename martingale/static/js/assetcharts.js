// What an asset's price chart shows, on the desktop's panels and the phone's cards alike: its life
// from birth to the scheduled expiry (or the last one or five minutes), the player's own buys and
// sells, the average cost of a holding and the expiry line. Several symbols on one chart are drawn
// as % since birth: a $0.40 asset and a $90 one share no dollar axis.
import { h } from "./dom.js";
import { state, serverNow, holding } from "./state.js";
import { series, setUnits } from "./charts.js";
import { color } from "./theme.js";
import * as fmt from "./format.js";

const RANGE_KEY = "martingale.chartRange";
export const RANGES = [
  { id: "1m", label: "1m", title: "The last minute", ms: 60_000 },
  { id: "5m", label: "5m", title: "The last five minutes", ms: 300_000 },
  { id: "all", label: "All", title: "The whole life, birth to expiry", ms: Infinity },
];

export function chartRange() {
  const saved = localStorage.getItem(RANGE_KEY);
  return RANGES.find((r) => r.id === saved) || RANGES[2];
}

export function setChartRange(id) {
  if (RANGES.some((r) => r.id === id)) localStorage.setItem(RANGE_KEY, id);
}

/** Buttons for the range; every picker on the page shows the one choice, remembered. */
export function rangePicker(onChange) {
  const current = chartRange().id;
  return h("div", { class: "range-pick", role: "group", "aria-label": "Chart time range" },
    ...RANGES.map((r) => h("button", {
      type: "button", class: "chip small", title: r.title, text: r.label, "aria-pressed": String(r.id === current),
      dataset: { range: r.id },
      onclick: () => {
        setChartRange(r.id);
        for (const b of document.querySelectorAll(".range-pick button")) b.setAttribute("aria-pressed", String(b.dataset.range === r.id));
        onChange();
      },
    })));
}

const tradeNote = (t) => `${t.kind === "buy" ? "You bought" : "You sold"} ${fmt.qty(t.quantity)} at ${fmt.price(t.price)}`;

/** Fill `chart` with `assets` (one or several) as they stand now. */
export function drawAssets(chart, assets, { compact = false } = {}) {
  if (!chart) return;
  if (!assets.length) {
    chart.data.datasets = [];
    chart.update("none");
    return;
  }
  const range = chartRange();
  const now = serverNow();
  const percent = assets.length > 1;
  const born = Math.min(...assets.map((a) => a.bornAt));
  const xMin = range.ms === Infinity ? born : Math.max(born, now - range.ms);
  const xMax = range.ms === Infinity ? Math.max(...assets.map((a) => a.expiresAt)) : now;
  // a point just before the window keeps the line running in from the left edge
  const from = (points) => points.slice(Math.max(0, points.findIndex((p) => p.x >= xMin) - 1));
  const y = (asset, price) => (percent ? (Number(price) / Number(asset.initial) - 1) * 100 : Number(price));

  const datasets = assets.map((a) => {
    const points = from(a.history.length && a.history[a.history.length - 1].x >= xMin ? a.history : []);
    const data = percent ? points.map((p) => ({ x: p.x, y: y(a, p.y), price: p.y })) : points;
    const extra = compact && !percent ? { fill: "start", backgroundColor: `${a.color}22` } : {};
    return series(a.symbol, a.color, data, extra);
  });

  for (const [kind, label, tone, rotation] of [["buy", "Your buys", "up", 0], ["sell", "Your sells", "down", 180]]) {
    const marks = [];
    for (const a of assets) {
      for (const t of state.trades) {
        if (t.kind === kind && t.symbol === a.symbol && t.at >= a.bornAt && t.at >= xMin) {
          marks.push({ x: t.at, y: y(a, t.price), price: t.price, note: `${a.symbol}: ${tradeNote(t)}` });
        }
      }
    }
    if (!marks.length) continue;
    marks.sort((p, q) => p.x - q.x);
    datasets.push(series(label, color(tone), marks, {
      // a light rim: a green buy stays visible on a green asset's line
      showLine: false, pointStyle: "triangle", rotation, pointRadius: compact ? 6 : 7, pointHoverRadius: 9,
      pointBorderColor: color("text"), pointBorderWidth: 1.2,
    }));
  }

  const held = !percent && assets.length === 1 ? holding(assets[0].symbol) : null;
  if (held?.avg_cost) {
    const avg = Number(held.avg_cost);
    datasets.push(series(`Avg cost ${fmt.price(held.avg_cost)}`, color("cyan"), [{ x: xMin, y: avg }, { x: xMax, y: avg }],
      { borderDash: [6, 4], borderWidth: 1.4 }));
  }

  chart.data.datasets = datasets;
  chart.options.scales.x.min = xMin;
  chart.options.scales.x.max = xMax;
  chart.options.plugins.expiryLine.at = assets.map((a) => a.expiresAt);
  chart.options.plugins.legend.display = datasets.length > 1;
  setUnits(chart, percent ? "pct" : "price");
  chart.update("none");
}
