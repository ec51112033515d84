import { render } from "preact";
import { registerSW } from "virtual:pwa-register";
import { App } from "./App";
import { getLang } from "./i18n";
import { loadCached, set, startWatching, syncAll } from "./app/state";
import "./styles.css";

document.documentElement.lang = getLang();
render(<App />, document.getElementById("app")!);

void (async () => {
  await loadCached();
  startWatching();
  if (navigator.onLine) await syncAll(true);
  try {
    await navigator.storage?.persist?.();
  } catch {
    /* best effort */
  }
})();

// Prompt to update: a new service worker waits until the person chooses to reload.
const updateSW = registerSW({
  immediate: true,
  onNeedRefresh() {
    // Never swap the app in the middle of a send: wait for the outbox's lock first.
    const locks = (navigator as Navigator & { locks?: LockManager }).locks;
    set({ updateReady: () => void (locks ? locks.request("doorpass-outbox", () => updateSW(true)) : updateSW(true)) });
  },
});
