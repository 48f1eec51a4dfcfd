// Socket.IO: pushes in, trades out by acknowledgement. Notices tick gaps and reconnects.
import { state, emit } from "./state.js";

let socket = null;
let everConnected = false;

export function connect() {
  // WebSocket only: one connection held by one worker, so any number of web workers can serve it
  // (no long-polling, whose requests would have to reach the same worker: docs/decisions/0006)
  socket = window.io({ transports: ["websocket"], reconnectionDelayMax: 5000 });
  socket.on("connect", () => {
    state.connected = true;
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
