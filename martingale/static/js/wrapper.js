// What the phone apps add to the game, at the moments it happens: a tap of the haptic engine on a
// fill and on a settlement, a notification before a held asset expires, the status bar and splash
// screen, the Android back button, pause and resume, and the links a tap opened. In a browser
// native.available is false and nothing here runs.
import * as native from "./native.js";
import { state, on, secondsLeft } from "./state.js";
import { WARN_S } from "./alerts.js";
import { pause, resume } from "./socket.js";
import { route, openRoute } from "./links.js";
import * as tokens from "./tokens.js";
import { inShell } from "./shell.js";
import { atoms, USD } from "./decimal.js";
import * as fmt from "./format.js";

const SPLASH_FALLBACK_MS = 6000;
const LAUNCH_HANDLED = "martingale.launch-url";
let layouts = null;
let pendingLink = null;

/** Wire the native side in once (every page of the app calls this; the dashboard passes its
 *  topics through state.js, which other pages never publish). */
export function startWrapper() {
  if (!native.available) return;
  native.call("StatusBar", "setStyle", { style: "DARK" }); // light text on the game's dark bars
  if (native.has("StatusBar", "setBackgroundColor")) {
    native.call("StatusBar", "setBackgroundColor", { color: document.querySelector('meta[name="theme-color"]')?.content || "#171d26" });
  }
  setTimeout(hideSplash, SPLASH_FALLBACK_MS); // a page that never gets ready must not stay hidden
  native.listen("App", "backButton", back);
  native.listen("App", "pause", () => { pause(); });
  native.listen("App", "resume", () => { resume(); schedule(); });
  native.listen("App", "appUrlOpen", ({ url }) => follow(url));
  native.listen("LocalNotifications", "localNotificationActionPerformed", (a) => follow(a?.notification?.extra?.url));
  on("ready", (mounted) => { layouts = mounted; hideSplash(); launchUrl(); if (pendingLink) follow(pendingLink); });
  on("login", hideSplash);
  on("own_trade", filled);
  on("push:settlement", settled);
  on("portfolio", schedule);
  on("assets", schedule);
  // revoked elsewhere (logout, password change): the server dropped the socket
  if (inShell) on("signed_out", () => tokens.refresh().then((t) => { if (!t) window.location.assign("/"); }, () => {}));
}

function hideSplash() {
  native.call("SplashScreen", "hide");
}

// -- links -------------------------------------------------------------------------------------
function follow(url) {
  const target = url ? route(url) : null;
  if (!target) return;
  if (target.asset && !layouts) {
    // not the dashboard, or not loaded yet: the dashboard opens it
    if (document.getElementById("app")) pendingLink = url;
    else window.location.assign(`/?asset=${encodeURIComponent(target.asset)}`);
    return;
  }
  pendingLink = null;
  openRoute(target, layouts);
}

async function launchUrl() {
  // the link that started the app, once: the dashboard loads again after the proof page
  const reply = await native.call("App", "getLaunchUrl");
  if (!reply?.url || sessionStorage.getItem(LAUNCH_HANDLED) === reply.url) return;
  sessionStorage.setItem(LAUNCH_HANDLED, reply.url);
  follow(reply.url);
}

// -- Android's back button: a sheet or the overview first, then the page's history, then out ------
function back({ canGoBack } = {}) {
  const dialog = document.querySelector("dialog[open]");
  if (dialog) { dialog.close(); return; }
  const overview = document.getElementById("m-overview");
  if (overview && !overview.hidden && overview.offsetParent !== null) {
    document.getElementById("m-overview-toggle").click();
    return;
  }
  if (canGoBack) window.history.back();
  else native.call("App", "exitApp");
}

// -- haptics -------------------------------------------------------------------------------------
let asked = false;

function filled(trade) {
  native.call("Haptics", "impact", { style: "MEDIUM" });
  // the first buy is when a warning before expiry starts to matter: ask then, not at launch
  if (trade?.side === "buy" && !asked) { asked = true; askToNotify(); }
}

function settled(msg) {
  const pnl = (msg.items || []).reduce((sum, i) => sum + atoms(i.realized_pnl, USD), 0n);
  native.call("Haptics", "notification", { type: pnl < 0n ? "WARNING" : "SUCCESS" });
}

// -- a notification before a held asset expires ----------------------------------------------------
let allowed = null; // null: not known yet
let checked = false;
const scheduled = new Map(); // notification id -> "symbol|at"

async function askToNotify() {
  const now = await native.call("LocalNotifications", "checkPermissions");
  let display = now?.display;
  if (display === "prompt" || display === "prompt-with-rationale") {
    display = (await native.call("LocalNotifications", "requestPermissions"))?.display;
  }
  allowed = display === "granted";
  schedule();
}

async function schedule() {
  if (allowed === null && !checked && native.has("LocalNotifications")) {
    // granted on an earlier run: no need to wait for a buy
    checked = true;
    allowed = (await native.call("LocalNotifications", "checkPermissions"))?.display === "granted" || null;
  }
  if (!allowed) return;
  const wanted = new Map();
  for (const h of state.portfolio?.holdings || []) {
    const asset = state.assets.get(h.symbol);
    if (!asset || secondsLeft(asset) - WARN_S < 5) continue; // the page's own warning covers it
    const at = new Date(asset.expiresAt - WARN_S * 1000);
    wanted.set(asset.id, { id: asset.id, symbol: h.symbol, at, quantity: h.quantity });
  }
  const stale = [...scheduled.keys()].filter((id) => !wanted.has(id));
  if (stale.length) {
    for (const id of stale) scheduled.delete(id);
    await native.call("LocalNotifications", "cancel", { notifications: stale.map((id) => ({ id })) });
  }
  const fresh = [...wanted.values()].filter((n) => scheduled.get(n.id) !== `${n.symbol}|${+n.at}`);
  if (!fresh.length) return;
  for (const n of fresh) scheduled.set(n.id, `${n.symbol}|${+n.at}`);
  await native.call("LocalNotifications", "schedule", {
    notifications: fresh.map((n) => ({
      id: n.id,
      title: `${n.symbol} expires in ${WARN_S / 60} minutes`,
      body: `You hold ${fmt.qty(n.quantity)} ${n.symbol}. Sell now or it settles at its last price.`,
      schedule: { at: n.at, allowWhileIdle: true },
      extra: { url: `/asset/${n.symbol}` },
    })),
  });
}
