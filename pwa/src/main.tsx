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
    set({ updateReady: () => void updateSW(true) });
  },
});
