// The offline page: also shown when the device is online but the game's server cannot be
// reached, which deserves other words. Installed, the app has no reload button: this page has one,
// and comes back by itself when the connection does.
const title = document.querySelector('[data-role="offline-title"]');
const text = document.querySelector('[data-role="offline-text"]');
const status = document.querySelector('[data-role="offline-status"]');

const OFFLINE = { title: title.textContent, status: status.textContent, text: text.textContent };
const UNREACHABLE = {
  title: "Martingale can’t be reached",
  status: "Server unreachable",
  text: "Your device is online but the game’s server did not answer. Your cash and positions are kept on the server; try again in a moment.",
};

function describe() {
  const words = navigator.onLine ? UNREACHABLE : OFFLINE;
  title.textContent = words.title;
  status.textContent = words.status;
  text.textContent = words.text;
}

function retry() {
  window.location.reload();
}

// Online but shown this page (the server did not answer, or the reload that the "online" event
// started raced the network coming back): try again by itself, less often each time.
const TRIES = "martingale.offlineTries";
function retryLater() {
  if (!navigator.onLine) return;
  const tries = Number(sessionStorage.getItem(TRIES) || 0);
  sessionStorage.setItem(TRIES, String(tries + 1));
  setTimeout(retry, Math.min(30, 2 ** (tries + 1)) * 1000);
}

describe();
retryLater();
document.getElementById("offline-retry").addEventListener("click", retry);
window.addEventListener("online", retry);
// a browser may learn it is offline only after the page started
window.addEventListener("offline", describe);
