// Every page registers the service worker (templates/sw.js): it keeps the offline page and the
// static files of the current deploy, so a page load without a network shows the offline page
// rather than the browser's error. No API or socket traffic ever passes through its cache.
if ("serviceWorker" in navigator) {
  // updateViaCache "none": the browser asks the server for /sw.js itself on every check, never
  // its HTTP cache, so a deploy's new worker is found at the next page load
  navigator.serviceWorker.register("/sw.js", { scope: "/", updateViaCache: "none" }).catch((err) => {
    // offline or blocked: the site works without it, only not offline
    console.warn("service worker not registered:", err.message);
  });
}
