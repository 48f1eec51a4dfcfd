// The proof page (/proof/ID; the shell's /proof.html?id=ID): an asset's commitment and, once it
// settled, its seed, from the public proof API. In the phone apps a settled proof can be shared.
import * as api from "./api.js";
import * as native from "./native.js";
import { startWrapper } from "./wrapper.js";
import { publicUrl } from "./shell.js";
import { $, setText } from "./dom.js";
import * as fmt from "./format.js";

const root = $("#proof");
const field = (name) => $(`[data-proof="${name}"]`, root);

function assetId() {
  const fromPath = /^\/proof\/([0-9]{1,18})\/?$/.exec(window.location.pathname)?.[1];
  const id = fromPath || new URLSearchParams(window.location.search).get("id") || "";
  return /^[0-9]{1,18}$/.test(id) ? id : null;
}

function show(proof) {
  const settled = proof.status === "settled";
  setText(field("title"), `Proof of ${proof.symbol}`);
  setText(field("summary"), settled
    ? `${proof.symbol} settled at ${fmt.price(proof.settlement_price)}. Its seed is revealed: hash it to check the commitment published at birth, then recompute every price.`
    : `${proof.symbol} is still trading. Its seed stays secret until it settles; the commitment below was published at its birth.`);
  setText(field("status"), settled ? "Settled" : "Live");
  setText(field("born_at"), fmt.stamp(Date.parse(proof.born_at)));
  setText(field("initial_price"), fmt.price(proof.initial_price));
  setText(field("drift"), proof.drift);
  setText(field("volatility"), proof.volatility);
  setText(field("settled_at"), settled ? fmt.stamp(Date.parse(proof.settled_at)) : "—");
  setText(field("settlement_price"), settled ? fmt.price(proof.settlement_price) : "—");
  setText(field("seed_commitment"), proof.seed_commitment);
  setText(field("seed"), settled ? proof.seed : "secret until settlement");
  setText(field("recipe"), proof.recipe);
  field("fields").hidden = false;
  root.dataset.state = proof.status;
  const share = $('[data-action="share-proof"]', root);
  if (settled && native.has("Share", "share")) {
    share.hidden = false;
    share.addEventListener("click", () => native.call("Share", "share", {
      title: `Martingale: ${proof.symbol}'s proof`,
      text: `${proof.symbol} settled at ${fmt.price(proof.settlement_price)}. Check every price from its revealed seed:`,
      url: publicUrl(`/proof/${proof.id}`),
      dialogTitle: "Share the proof",
    }));
  }
}

async function load() {
  startWrapper();
  const id = assetId();
  if (!id) { setText(field("summary"), "No such proof."); root.dataset.state = "missing"; return; }
  try {
    show(await api.get(`/assets/${id}/proof`));
  } catch (err) {
    setText(field("summary"), err.status === 404 ? "No asset has this number." : `The proof could not be loaded: ${err.message}`);
    root.dataset.state = "missing";
  }
}

load();
