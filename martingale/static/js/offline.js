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

describe();
document.getElementById("offline-retry").addEventListener("click", retry);
window.addEventListener("online", retry);
// a browser may learn it is offline only after the page started
window.addEventListener("offline", describe);
