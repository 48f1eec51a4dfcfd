// The desktop's price charts: 1 to 4 panels, each drawing up to 8 symbols the player adds, over
// the range the player picks (assetcharts.js draws them).
import { h, fill, $, setText, assetColor } from "../dom.js";
import * as fmt from "../format.js";
import { state, sortedAssets, changePct, liveAccount } from "../state.js";
import { lineChart } from "../charts.js";
import { drawAssets, rangePicker } from "../assetcharts.js";

const MAX_SYMBOLS = 8;

const COUNT_KEY = "martingale.chartCount";

/** Symbols worth a chart, best first: the player's holdings by value, then the biggest movers. */
function suggestions(exclude) {
  const held = new Map((liveAccount()?.positions || []).map((p) => [p.symbol, Number(p.marketValue)]));
  return sortedAssets()
    .filter((a) => !exclude.has(a.symbol))
    .map((a) => [held.has(a.symbol) ? 1e18 + held.get(a.symbol) : Math.abs(changePct(a)), a.symbol])
    .sort((x, y) => y[0] - x[0])
    .map(([, symbol]) => symbol);
}

export function priceCharts(panel) {
  const box = $("#price-charts", panel);
  const count = $("#chart-count", panel);
  const charts = []; // {el, chart, symbols: Set, select, tags, last}
  const saved = localStorage.getItem(COUNT_KEY);
  if ([...count.options].some((o) => o.value === saved)) count.value = saved;
  const charted = () => new Set(charts.flatMap((pc) => [...pc.symbols]));
  count.closest(".chart-controls").prepend(rangePicker(() => draw()));

  function setCount(n) {
    while (charts.length > n) {
      const pc = charts.pop();
      pc.chart?.destroy();
      pc.el.remove();
    }
    while (charts.length < n) {
      const pick = suggestions(charted())[0];
      charts.push(makeChart(charts.length, pick ? [pick] : []));
    }
    box.dataset.count = String(n);
    draw();
  }

  function makeChart(index, symbols) {
    const id = `pc-${index}`;
    const select = h("select", { id: `${id}-sym` });
    const add = h("button", { type: "button", class: "ghost small", text: "Add" });
    const clear = h("button", { type: "button", class: "ghost small", text: "Clear" });
    const tags = h("ul", { class: "tags", "aria-label": "Symbols on this chart" });
    const last = h("p", { class: "last-prices mono", "aria-live": "off" });
    const canvas = h("canvas", { role: "img", "aria-label": `Price chart ${index + 1}` });
    const el = h("div", { class: "price-chart" },
      h("div", { class: "pc-head" },
        h("label", { for: `${id}-sym`, class: "sr-only", text: `Symbol to add to chart ${index + 1}` }), select, add, clear, tags),
      last, h("div", { class: "chart-box chart-price" }, canvas));
    box.append(el);
    const pc = { el, select, tags, last, chart: lineChart(canvas, { legend: true }), symbols: new Set(symbols) };
    add.addEventListener("click", () => {
      if (pc.select.value && pc.symbols.size < MAX_SYMBOLS) { pc.symbols.add(pc.select.value); renderTags(pc); draw(); }
    });
    clear.addEventListener("click", () => { pc.symbols.clear(); renderTags(pc); draw(); });
    fillSelect(pc);
    return pc;
  }

  /** The symbol choices follow the live assets; expired symbols leave the chart, and a chart left
   *  empty takes the best symbol not charted yet. The picker offers one not on this chart. */
  function fillSelect(pc) {
    const current = pc.select.value;
    fill(pc.select, sortedAssets().map((a) => h("option", { value: a.symbol, text: a.symbol })));
    for (const s of [...pc.symbols]) if (!state.assets.has(s)) pc.symbols.delete(s);
    if (!pc.symbols.size) { const next = suggestions(charted())[0]; if (next) pc.symbols.add(next); }
    if (state.assets.has(current) && !pc.symbols.has(current)) pc.select.value = current;
    else pc.select.value = suggestions(pc.symbols)[0] ?? "";
    renderTags(pc);
  }

  function renderTags(pc) {
    fill(pc.tags, [...pc.symbols].map((s) => {
      const li = h("li", { class: "tag" }, h("span", { text: s }),
        h("button", { type: "button", class: "tag-x", "aria-label": `Remove ${s} from chart`, text: "×",
          onclick: () => { pc.symbols.delete(s); renderTags(pc); draw(); } }));
      return assetColor(li, state.assets.get(s)?.color);
    }));
  }

  function draw() {
    for (const pc of charts) {
      const assets = [...pc.symbols].map((s) => state.assets.get(s)).filter(Boolean);
      const line = assets.map((a) => `${a.symbol} ${fmt.price(a.price)}${assets.length > 1 ? ` (${fmt.pct(changePct(a))})` : ""}`);
      setText(pc.last, assets.length ? `${line.join("  ·  ")}${assets.length > 1 ? "  —  % since each one's birth" : ""}` : "Pick a symbol and press Add.");
      drawAssets(pc.chart, assets);
    }
  }

  count.addEventListener("change", () => { localStorage.setItem(COUNT_KEY, count.value); setCount(Number(count.value)); });

  return {
    /** Follow the live assets (the first call makes the charts the count asks for). */
    render() {
      if (!charts.length) setCount(Number(count.value));
      for (const pc of charts) fillSelect(pc);
    },
    draw,
  };
}
