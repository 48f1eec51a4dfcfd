// The phone apps' native side, reached through the bridge the app injects into its web view
// (window.Capacitor and its Plugins, by name): no npm code is bundled into the site. Whatever is
// absent, in a plain browser or a plugin not installed, is a no-op, so the site loads this module
// unchanged and nothing here ever runs there.
const cap = window.Capacitor;

/** True inside a Capacitor app (iOS or Android), false in any browser. */
export const available = Boolean(cap?.Plugins) && (cap.isNativePlatform?.() ?? true);

function plugin(name) {
  return available ? cap.Plugins[name] || null : null;
}

export function has(name, method) {
  const p = plugin(name);
  return Boolean(p) && (!method || typeof p[method] === "function");
}

/** Call a plugin method; resolves to its answer, or undefined when absent or refused. */
export async function call(name, method, options) {
  if (!has(name, method)) return undefined;
  try {
    return await plugin(name)[method](options);
  } catch (err) {
    // a refused permission or a missing capability must never break the game
    console.warn(`${name}.${method}:`, err?.message || err);
    return undefined;
  }
}

export function listen(name, event, fn) {
  if (has(name, "addListener")) plugin(name).addListener(event, fn);
}

// SecureStorage (@aparajita/capacitor-secure-storage): the iOS Keychain and an Android
// Keystore-encrypted store. Its native methods are the "internal" ones its own JS wraps; the item
// stays on this device (not synced or backed up) and is readable only while it is unlocked.
const THIS_DEVICE_WHEN_UNLOCKED = 1;

export const secure = {
  available: () => has("SecureStorage", "internalGetItem"),
  async get(key) {
    const reply = await call("SecureStorage", "internalGetItem", { prefixedKey: key, sync: false });
    return reply?.data ?? null;
  },
  set(key, data) {
    return call("SecureStorage", "internalSetItem", { prefixedKey: key, data, sync: false, access: THIS_DEVICE_WHEN_UNLOCKED });
  },
  remove(key) {
    return call("SecureStorage", "internalRemoveItem", { prefixedKey: key, sync: false });
  },
};
