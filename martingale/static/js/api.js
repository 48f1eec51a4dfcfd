// REST API v1 over the session cookie: JSON reads (trades go over the socket).
const BASE = "/api/v1";

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function request(path, options = {}) {
  const response = await fetch(BASE + path, {
    credentials: "same-origin",
    ...options,
    headers: { Accept: "application/json", ...(options.headers || {}) },
  });
  if (response.status === 401) {
    window.location.assign("/login");
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
