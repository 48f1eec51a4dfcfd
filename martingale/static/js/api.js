// REST API v1 over the session cookie: JSON in, JSON out, CSRF header on writes.
const BASE = "/api/v1";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content || "";
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

/** POST with the CSRF token from the page's meta tag, and an optional Idempotency-Key. */
export function post(path, body, idempotencyKey) {
  const headers = { "Content-Type": "application/json", "X-CSRFToken": csrfToken() };
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  return request(path, { method: "POST", headers, body: JSON.stringify(body) });
}
