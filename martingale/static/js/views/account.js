// The account's figures at the latest prices, into whichever [data-stat] cells a layout shows.
import { $, setText, setTone } from "../dom.js";
import * as fmt from "../format.js";

/** Fill box's value, cash, total/realized/unrealized P&L and return from a liveAccount(). */
export function renderAccountStats(box, a) {
  const set = (name, text, tone) => {
    const el = $(`[data-stat="${name}"]`, box);
    setText(el, text);
    if (tone !== undefined) setTone(el, tone);
  };
  set("value", fmt.usd(a.value));
  set("cash", fmt.usd(a.cash));
  set("total", `${fmt.arrow(fmt.sign(a.total))} ${fmt.signedUsd(a.total)}`, fmt.sign(a.total));
  set("realized", fmt.signedUsd(a.realized), fmt.sign(a.realized));
  set("unrealized", fmt.signedUsd(a.unrealized), fmt.sign(a.unrealized));
  set("ret", `${fmt.arrow(fmt.pctSign(a.ret))} ${fmt.pct(a.ret)}`, fmt.pctSign(a.ret));
}
