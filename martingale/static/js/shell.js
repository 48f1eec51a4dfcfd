// The phone apps' bundled shell (web/shell.py) names the hosted game in a meta tag; the site's own
// pages do not, and keep calling their own origin with the session cookie.
const meta = document.querySelector('meta[name="martingale-server"]');

export const inShell = Boolean(meta);
export const server = meta ? meta.content : "";

/** The hosted game's address for a path: what a shared link must point at, even from the app. */
export function publicUrl(path) {
  return (server || window.location.origin) + path;
}

/** Where this front-end shows an asset's proof: the site's page, or the shell's copy of it. */
export function proofHref(id) {
  return inShell ? `/proof.html?id=${encodeURIComponent(id)}` : `/proof/${encodeURIComponent(id)}`;
}

/** A player's public profile: the site's page, on the hosted game when this is the app's shell. */
export function profileHref(displayName) {
  const path = `/players/${encodeURIComponent(displayName)}`;
  return inShell ? publicUrl(path) : path;
}
