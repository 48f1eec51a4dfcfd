// REST API v1: JSON reads (trades go over the socket). The site's pages send their session cookie;
// the phone apps' shell calls the hosted game with a bearer token instead (tokens.js).
import { inShell, server } from "./shell.js";
import * as tokens from "./tokens.js";

const BASE = `${server}/api/v1`;

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function send(path, options, token) {
  const headers = { Accept: "application/json", ...(options.headers || {}) };
  if (token) headers.Authorization = `Bearer ${token}`;
  return fetch(BASE + path, { credentials: inShell ? "omit" : "same-origin", ...options, headers });
}

async function request(path, options = {}) {
  let response = await send(path, options, inShell ? await tokens.accessToken() : null);
  // the app's access token may have expired since it was checked: one refresh, one retry
  if (response.status === 401 && inShell) {
    const token = await tokens.refresh();
    if (token) response = await send(path, options, token);
  }
  if (response.status === 401) {
    if (inShell) await tokens.forget();
    // the shell's own page then asks for a login (login.js)
    window.location.assign(inShell ? "/" : "/login");
    throw new ApiError(401, "unauthorized", "please log in again");
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const err = body.error || {};
    throw new ApiError(response.status, err.code || "http_error", err.message || response.statusText);
  }
  return body;
}

export function get(path) {
  return request(path);
}
