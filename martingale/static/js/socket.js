// Socket.IO: pushes in, trades out by acknowledgement. Notices tick gaps and reconnects.
import { state, emit } from "./state.js";
import { inShell, server } from "./shell.js";
import * as tokens from "./tokens.js";

let socket = null;
let everConnected = false;

export function connect() {
  // WebSocket only: one connection held by one worker, so any number of web workers can serve it
  // (no long-polling, whose requests would have to reach the same worker: docs/decisions/0006)
  const options = { transports: ["websocket"], reconnectionDelayMax: 5000 };
  // the phone apps' shell: the hosted game, with a fresh access token at every (re)connection
  socket = inShell ? window.io(server, { ...options, auth: withToken }) : window.io(options);
  socket.on("connect", () => {
    state.connected = true;
    retried = false;
    emit("connection", true);
    if (everConnected) emit("gap", "reconnect");
    everConnected = true;
  });
  socket.on("disconnect", (reason) => {
    state.connected = false;
    emit("connection", false);
    // the server ends sockets of revoked sessions (logout elsewhere, password change)
    if (reason === "io server disconnect") emit("signed_out");
  });
  socket.on("connect_error", () => emit("connection", false));
  if (inShell) socket.on("connect_error", retryRefused);
  socket.on("prices", (msg) => {
    const skipped = state.tickSeq !== null && msg.tick_seq > state.tickSeq + 1;
    emit("prices", msg);
    if (skipped) emit("gap", "tick");
  });
  for (const name of ["asset_born", "asset_expired", "asset_settled", "tape", "portfolio", "settlement"]) {
    socket.on(name, (msg) => emit(`push:${name}`, msg));
  }
  return socket;
}

function withToken(cb) {
  tokens.accessToken().then((token) => cb(token ? { token } : {}), () => cb({}));
}

// A handshake the server refused (an access token gone stale) is not retried by the client:
// refresh once, then try again; signed out, the page's next API call asks for a login.
let retried = false;
async function retryRefused() {
  if (socket.active || retried) return;
  retried = true;
  if (await tokens.refresh().catch(() => null)) socket.connect();
}

/** The app went to the background: close the socket rather than trust it on return (a suspended
 *  app's WebSocket can still claim to be open). */
export function pause() {
  socket?.disconnect();
}

/** Back in the foreground: reconnect; the reconnection fills the gap like any other (main.js). */
export function resume() {
  retried = false;
  if (socket && !socket.connected) socket.connect();
}

/** Emit a trade and wait for its acknowledgement; rejects on timeout or when not connected. */
export function sendTrade(order, timeoutMs = 8000) {
  return new Promise((resolve, reject) => {
    if (!socket?.connected) { reject(new Error("offline")); return; }
    socket.timeout(timeoutMs).emit("trade", order, (err, reply) => (err ? reject(err) : resolve(reply)));
  });
}

/** Resolves when connected, or after timeoutMs (false). */
export function whenConnected(timeoutMs = 5000) {
  if (socket?.connected) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok) => { clearTimeout(timer); socket?.off("connect", onConnect); resolve(ok); };
    const onConnect = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    socket?.on("connect", onConnect);
  });
}
