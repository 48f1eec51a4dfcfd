// The phone apps' login session: a bearer access token in memory and the rotating refresh token in
// the platform's secure storage (native.js), never in web storage. The site never runs this: its
// pages carry the session cookie, which an app on another origin cannot rely on.
import { server } from "./shell.js";
import { secure } from "./native.js";

const KEY = "martingale.refresh";
// the server's access tokens live 15 minutes by default (MARTINGALE_ACCESS_TOKEN_SECONDS); one
// older than this is replaced before a socket handshake, which cannot be retried on a 401
const ACCESS_MAX_AGE_MS = 10 * 60_000;

let access = null;
let obtainedAt = 0;
let memoryRefresh = null; // only where no secure storage exists: gone when the app is
let refreshing = null;

async function post(path, body, token) {
  const headers = { Accept: "application/json", "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(`${server}/api/v1${path}`, {
    method: "POST", credentials: "omit", headers, body: JSON.stringify(body),
  });
  const reply = await response.json().catch(() => ({}));
  if (!response.ok) {
    const err = new Error(reply.error?.message || response.statusText);
    err.status = response.status;
    err.code = reply.error?.code;
    throw err;
  }
  return reply;
}

async function keep(pair) {
  access = pair.access_token;
  obtainedAt = Date.now();
  if (secure.available()) await secure.set(KEY, pair.refresh_token);
  else memoryRefresh = pair.refresh_token;
  return pair;
}

async function storedRefresh() {
  return secure.available() ? secure.get(KEY) : memoryRefresh;
}

export async function forget() {
  access = null;
  memoryRefresh = null;
  if (secure.available()) await secure.remove(KEY);
}

export async function login(username, password) {
  return keep(await post("/auth/login", { username, password }));
}

export async function register(username, password, displayName) {
  const body = { username, password };
  if (displayName) body.display_name = displayName;
  return keep(await post("/auth/register", body));
}

/** Spend the refresh token for a new pair; null (and forgotten) when the server refuses it. One
 *  at a time: a token spent twice would end the session. Network errors reject. */
export function refresh() {
  refreshing ??= (async () => {
    const token = await storedRefresh();
    if (!token) return null;
    try {
      return (await keep(await post("/auth/refresh", { refresh_token: token }))).access_token;
    } catch (err) {
      if (err.status !== 401) throw err;
      await forget();
      return null;
    }
  })().finally(() => { refreshing = null; });
  return refreshing;
}

/** A usable access token, refreshed when old; null when signed out. */
export async function accessToken() {
  if (access && Date.now() - obtainedAt < ACCESS_MAX_AGE_MS) return access;
  return refresh();
}

/** End this session here, then on the server, whatever it answers. Forgotten first: the server
 *  then drops the socket, and the page must not spend the ended session's refresh token. */
export async function logout() {
  const token = access;
  await forget();
  try {
    if (token) await post("/auth/logout", {}, token);
  } catch (err) {
    console.warn("logout:", err.message);
  }
}
