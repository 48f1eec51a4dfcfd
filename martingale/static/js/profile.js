// The profile page (templates/profile.html): its P&L curve from the points the page carries, and
// its times in the reader's own zone. Nothing is fetched: the server wrote every figure.
import { lineChart, series } from "./charts.js";
import { shortTime, stamp, time } from "./format.js";
import { color, alpha } from "./theme.js";

const day = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });
// on the smallest phones a trade's time is to the minute, so the table fits the screen
const narrow = window.matchMedia("(max-width: 400px)").matches;
const shown = { date: (ms) => day.format(ms), stamp, time: narrow ? shortTime : time };

for (const el of document.querySelectorAll("time[data-local]")) {
  const ms = Date.parse(el.dateTime);
  const format = shown[el.dataset.local];
  if (format && Number.isFinite(ms)) el.textContent = format(ms);
}

const canvas = document.getElementById("profile-curve");
if (canvas) {
  let points = [];
  try {
    points = JSON.parse(canvas.dataset.curve || "[]").map((p) => ({ x: Date.parse(p.t), y: Number(p.pnl) }));
  } catch {
    points = [];
  }
  const chart = lineChart(canvas, { kind: "usd" });
  if (chart) {
    // the line in the colour of where it ends: green above the grant, red below
    const last = points.length ? points[points.length - 1].y : 0;
    const tone = color(last < 0 ? "down" : last > 0 ? "up" : "accent");
    chart.data.datasets = [series("P&L", tone, points, { fill: "origin", backgroundColor: alpha(tone, 0.12) })];
    if (points.length > 1) {
      // the hour the points cover, not the round numbers past its ends
      chart.options.scales.x.min = points[0].x;
      chart.options.scales.x.max = points[points.length - 1].x;
    }
    chart.update("none");
    canvas.closest(".profile-chart")?.setAttribute("data-drawn", String(points.length));
  }
}
