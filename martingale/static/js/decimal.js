// Exact decimal arithmetic on the API's decimal strings, with BigInt atoms (never floats).
export const QTY = 8;
const PRICE = 8;
export const USD = 6;

const TEN = 10n;

/** "12.5" at 8 places -> 1250000000n. Extra places are truncated toward zero. */
export function atoms(text, places) {
  const s = String(text ?? "0").trim();
  const negative = s.startsWith("-");
  const body = negative || s.startsWith("+") ? s.slice(1) : s;
  const [whole = "0", frac = ""] = body.split(".");
  if (!/^\d*$/.test(whole) || !/^\d*$/.test(frac)) return 0n;
  const value = BigInt(whole || "0") * TEN ** BigInt(places) + BigInt((frac + "0".repeat(places)).slice(0, places) || "0");
  return negative ? -value : value;
}

/** 1250000000n at 8 places -> "12.50000000". */
export function text(value, places) {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const scale = TEN ** BigInt(places);
  const whole = abs / scale;
  const frac = (abs % scale).toString().padStart(places, "0");
  return `${negative ? "-" : ""}${whole}${places ? "." + frac : ""}`;
}

/** Market value in USD atoms of a quantity and a price (both decimal strings), rounded down. */
export function value(quantity, price) {
  return (atoms(quantity, QTY) * atoms(price, PRICE)) / TEN ** BigInt(QTY + PRICE - USD);
}

/** The largest quantity (8 places) that cash (USD string) buys at price; "0" if none. */
export function maxQuantity(cash, price) {
  const p = atoms(price, PRICE);
  if (p <= 0n) return "0";
  const q = (atoms(cash, USD) * TEN ** BigInt(QTY + PRICE - USD)) / p;
  return text(q, QTY);
}

/** A float for charts and percentages only (never for money arithmetic). */
export function toNumber(value, places) {
  return Number(text(value, places));
}
