// Deep links: /asset/SYM selects that asset, /proof/ID shows that asset's proof. The same paths
// serve the site (web/links.py), the installed web app and the phone apps, whose App plugin hands
// over the address a tap opened (wrapper.js); the shell, which has one page, takes ?asset=SYM.
import { state } from "./state.js";
import { proofHref } from "./shell.js";
import { toast } from "./toasts.js";

const ASSET = /^\/asset\/([A-Za-z0-9]{1,12})\/?$/;
const PROOF = /^\/proof\/([0-9]{1,18})\/?$/;

/** {asset: SYM} or {proof: ID} for an address (absolute or a path), else null. */
export function route(address) {
  let url;
  try {
    url = new URL(address, window.location.href);
  } catch {
    return null;
  }
  const asset = ASSET.exec(url.pathname)?.[1] || url.searchParams.get("asset");
  if (asset && /^[A-Za-z0-9]{1,12}$/.test(asset)) return { asset: asset.toUpperCase() };
  const proof = PROOF.exec(url.pathname)?.[1];
  return proof ? { proof } : null;
}

/** Show what a route names: the proof page, or the asset selected in the layout on screen. */
export function openRoute(target, layouts) {
  if (target?.proof) {
    window.location.assign(proofHref(target.proof));
  } else if (target?.asset) {
    if (state.assets.has(target.asset)) layouts.select(target.asset);
    else toast({ id: "link-gone", kind: "info", title: `${target.asset} is not trading`, message: `${target.asset} has expired or is not listed now. Pick another asset.` });
  }
}

/** The address this page was opened at, once the market is loaded. */
export function followLinks(layouts) {
  const target = route(window.location.href);
  if (target?.asset) openRoute(target, layouts);
}
