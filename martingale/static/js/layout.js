// Two layouts share the page and app.css shows one: the phone's at 768 px and below, the desktop's
// above. Only the one on screen hears the store; the other is drawn in full when it appears.
import { on } from "./state.js";

const phoneQuery = window.matchMedia("(max-width: 768px)");
const TOPICS = ["assets", "interest", "tick", "second", "portfolio", "own", "tape", "leaders", "performance", "connection"];

export function isPhone() {
  return phoneQuery.matches;
}

/**
 * Show the layout on screen from the loaded state, then keep it live. A layout is
 * {init(app), renderAll(), select(symbol), on: {topic: handler}}; init runs once, the first time it is shown.
 */
export function mountLayouts(app, { desktop, phone }) {
  const started = new Set();
  let shown = null;
  const show = () => {
    shown = isPhone() ? phone : desktop;
    if (!started.has(shown)) { shown.init(app); started.add(shown); }
    shown.renderAll();
  };
  // routed through `shown`, not isPhone(): a topic may come between the resize and its change event
  for (const topic of TOPICS) on(topic, (payload) => shown.on[topic]?.(payload));
  phoneQuery.addEventListener("change", show);
  show();
  return {
    /** Bring an asset forward in the layout on screen (a deep link: links.js). */
    select: (symbol) => shown.select(symbol),
  };
}
