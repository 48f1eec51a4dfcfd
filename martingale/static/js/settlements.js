// What a settlement meant for the player: each position's entry against its final price, and the
// result, not only the cash it paid ("1 position settled for $690.60" was a $370 loss).
import { atoms, toNumber, USD } from "./decimal.js";
import * as fmt from "./format.js";

/** {title, message, kind} for a `settlement` push: {count, value, items: [...]}. */
export function describeSettlement(msg) {
  const pnl = msg.items.reduce((sum, i) => sum + atoms(i.realized_pnl, USD), 0n);
  const s = fmt.sign(pnl);
  const result = s > 0 ? `gain ${fmt.signedUsd(pnl)}` : s < 0 ? `loss ${fmt.signedUsd(pnl)}` : "no gain or loss";
  const lines = msg.items.slice(0, 3).map(line);
  if (msg.items.length > 3) lines.push(`and ${msg.items.length - 3} more.`);
  const count = `${msg.count} position${msg.count === 1 ? "" : "s"}`;
  return {
    kind: s < 0 ? "warning" : "success",
    title: `${count} settled: ${result}`,
    message: `${lines.join(" ")} Paid ${fmt.usd(msg.value)}.`,
  };
}

function line(item) {
  const cost = atoms(item.value, USD) - atoms(item.realized_pnl, USD);
  const units = Number(item.quantity);
  const entry = units > 0 ? toNumber(cost, USD) / units : 0;
  return `${item.symbol}: ${fmt.qty(item.quantity)} bought at ${fmt.price(entry)}, settled at ${fmt.price(item.price)} (${fmt.signedUsd(item.realized_pnl)}).`;
}
