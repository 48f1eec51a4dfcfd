// Display formats: money and quantities from decimal strings, times in the player's own zone.
import { atoms, text, toNumber, USD } from "./decimal.js";

const money2 = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const money4 = new Intl.NumberFormat("en-US", { minimumFractionDigits: 4, maximumFractionDigits: 4 });
const whole = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const shortClock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateTime = new Intl.DateTimeFormat(undefined, {
  month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
});

/** "$1,234.56" from a USD decimal string or BigInt atoms. */
export function usd(value) {
  const n = typeof value === "bigint" ? toNumber(value, USD) : Number(value);
  const sign = n < 0 ? "−" : "";
  return `${sign}$${money2.format(Math.abs(n))}`;
}

/** "+$12.34" / "−$12.34": a signed change; what shows as $0.00 carries no sign. */
export function signedUsd(value) {
  const n = dollars(value);
  const shown = money2.format(Math.abs(n));
  return `${signOf(n, shown) > 0 ? "+" : signOf(n, shown) < 0 ? "−" : ""}$${shown}`;
}

function dollars(value) {
  return typeof value === "bigint" ? toNumber(value, USD) : typeof value === "string" ? toNumber(atoms(value, USD), USD) : value;
}

// A direction is read off the figure as shown: a fraction of a cent is no gain and no loss.
function signOf(n, shown) {
  return /[1-9]/.test(shown) ? Math.sign(n) : 0;
}

/** A price: 2 decimals from $1 up, 4 below. */
export function price(value) {
  const n = Number(value);
  return `$${(Math.abs(n) >= 1 ? money2 : money4).format(n)}`;
}

/** A quantity with its real decimals: trailing zeros trimmed, never rounded. */
export function qty(value) {
  const { sign, units, frac } = qtyParts(value);
  // a BigInt keeps every digit: Intl only adds the grouping
  const grouped = /^\d+$/.test(units) ? whole.format(BigInt(units)) : units;
  return `${sign}${grouped}${frac ? "." + frac : ""}`;
}

/** A quantity as an input value: real decimals, no grouping. */
export function plainQty(value) {
  const { sign, units, frac } = qtyParts(value);
  return `${sign}${units}${frac ? "." + frac : ""}`;
}

function qtyParts(value) {
  const s = typeof value === "bigint" ? text(value, 8) : String(value);
  const negative = s.startsWith("-");
  const [units, frac = ""] = (negative ? s.slice(1) : s).split(".");
  return { sign: negative ? "-" : "", units: units || "0", frac: frac.replace(/0+$/, "") };
}

/** "+1.23%" from a number of percent; what shows as 0.00% carries no sign. */
export function pct(n, places = 2) {
  if (!Number.isFinite(n)) return "—";
  const shown = pctDigits(n, places);
  const s = signOf(n, shown);
  return s === 0 ? `${(0).toFixed(places)}%` : `${s > 0 ? "+" : "−"}${shown}%`;
}

/** -1, 0 or 1 for a percentage as pct() shows it. */
export function pctSign(n, places = 2) {
  return Number.isFinite(n) ? signOf(n, pctDigits(n, places)) : 0;
}

function pctDigits(n, places) {
  if (n !== 0 && Math.abs(n) < 0.005 * 10 ** (2 - places)) places += 1; // −0.003%, not −0.00%
  return Math.abs(n).toFixed(places);
}

/** -1, 0 or 1 for an amount of dollars (decimal string, BigInt atoms or number) as usd() shows it. */
export function sign(value) {
  const n = dollars(value);
  return signOf(n, money2.format(Math.abs(n)));
}

/** "▲" / "▼" / "•": direction shown as a glyph, never by colour alone. */
export function arrow(s) {
  return s > 0 ? "▲" : s < 0 ? "▼" : "•";
}

export function time(ms) { return clock.format(ms); }
export function shortTime(ms) { return shortClock.format(ms); }
export function stamp(ms) { return dateTime.format(ms); }

/** The time alone on the same day as \`now\`, else the date too. */
export function when(ms, now) {
  return new Date(ms).toDateString() === new Date(now).toDateString() ? clock.format(ms) : dateTime.format(ms);
}

/** A countdown: "1d 2h", "3h 4m", "5m 06s", "42s", or "expired". */
export function countdown(seconds) {
  if (!(seconds > 0)) return "expired";
  return duration(seconds);
}

/** A length of time: "1d 2h", "3h 4m", "5m 06s", "42s"; "0s" for nothing. */
export function duration(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  if (s >= 86400) return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
  if (s >= 3600) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

/** "m:ss" for the final-minute countdown. */
export function mmss(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** The urgency class of a countdown (colour is paired with the text itself). */
export function urgency(seconds) {
  if (!(seconds > 0)) return "t-expired";
  if (seconds < 60) return "t-critical";
  if (seconds < 300) return "t-soon";
  if (seconds < 900) return "t-near";
  return "t-far";
}

function about(pct) {
  const a = Math.abs(pct);
  return a >= 10 ? a.toFixed(0) : a >= 1 ? a.toFixed(1).replace(/\.0$/, "") : a.toFixed(1);
}

/** An asset's drift and volatility (per second, as the API gives them) in a player's words:
 *  {trend, swing, sentence, short}. The expected move over a minute is exp(60·drift) − 1. */
export function character(drift, volatility) {
  const minute = (Math.exp(60 * Number(drift)) - 1) * 100;
  const second = Number(volatility) * 100;
  const flat = !Number.isFinite(minute) || Math.abs(minute) < 0.5;
  const way = minute > 0 ? "rise" : "fall";
  const trend = flat ? "has no clear trend" : `tends to ${way} about ${about(minute)}% a minute`;
  const swing = `swings about ${about(second)}% a second`;
  return {
    trend,
    swing,
    sentence: `${trend.charAt(0).toUpperCase()}${trend.slice(1)} and ${swing}.`,
    short: `${flat ? "flat" : `${way}s ${about(minute)}%/min`}, swings ${about(second)}%/s`,
  };
}
