// The first visit's introduction: three steps (pick, buy, expiry and settlement), skippable, shown
// once per browser and reopened from "How to play".
import { $, $$, setText } from "./dom.js";

const SEEN = "martingale.introSeen";
const STEPS = 3;

export function init() {
  const dialog = $("#intro-dialog");
  if (!dialog) return;
  let step = 1;
  const show = (n) => {
    step = n;
    for (const s of $$("[data-intro]", dialog)) s.hidden = Number(s.dataset.intro) !== n;
    setText($('[data-role="intro-step"]', dialog), `Step ${n} of ${STEPS}`);
    $('[data-role="intro-back"]', dialog).hidden = n === 1;
    $('[data-role="intro-skip"]', dialog).hidden = n === STEPS; // "Start playing" says the same
    setText($('[data-role="intro-next"]', dialog), n === STEPS ? "Start playing" : "Next");
  };
  const open = () => { show(1); if (!dialog.open) dialog.showModal(); };
  // remembered at once (the dialog's close event comes a task later: a reload could beat it)
  const done = () => { localStorage.setItem(SEEN, "1"); dialog.close("done"); };
  $('[data-role="intro-next"]', dialog).addEventListener("click", () => (step < STEPS ? show(step + 1) : done()));
  $('[data-role="intro-back"]', dialog).addEventListener("click", () => show(step - 1));
  $('[data-role="intro-skip"]', dialog).addEventListener("click", () => localStorage.setItem(SEEN, "1"));
  dialog.addEventListener("close", () => localStorage.setItem(SEEN, "1")); // Escape
  for (const b of $$('[data-role="intro-open"]')) b.addEventListener("click", open);
  if (!localStorage.getItem(SEEN)) open();
}
