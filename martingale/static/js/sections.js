// Sections a link can open by its fragment: the web app manifest's shortcuts (web/pwa.py) and any
// bookmark. The phone shows the section's tab; the desktop, where every section is on the page,
// scrolls to it.
import { isPhone } from "./layout.js";

const SECTIONS = {
  board: { tab: "leaders", heading: "lead-h" },
  portfolio: { tab: "account", heading: "holdings-h" },
  history: { tab: "history", heading: "own-h" },
  market: { tab: "assets", heading: "assets-h" },
};

function open(app) {
  const section = SECTIONS[window.location.hash.slice(1)];
  if (!section) return;
  if (isPhone()) {
    // the tab's own button, so the tab list's state and focus order stay its own business
    app.querySelector(`.m-tabs [data-tab="${section.tab}"]`)?.click();
  } else {
    document.getElementById(section.heading)?.closest("section")?.scrollIntoView({ block: "start" });
  }
}

/** Open the section the address names, now and whenever its fragment changes. */
export function followSections(app) {
  open(app);
  window.addEventListener("hashchange", () => open(app));
}
