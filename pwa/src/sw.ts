/// <reference lib="webworker" />
// The service worker: precache the whole app shell (the QR decoder's WebAssembly included),
// answer every app route with index.html, and wait to activate until the page asks.
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from "workbox-precaching";
import { NavigationRoute, registerRoute } from "workbox-routing";

declare let self: ServiceWorkerGlobalScope;

cleanupOutdatedCaches();
precacheAndRoute(self.__WB_MANIFEST);
registerRoute(new NavigationRoute(createHandlerBoundToURL("/index.html"), { denylist: [/^\/api\//, /^\/schema/] }));

self.addEventListener("message", (event) => {
  if (event.data?.type === "SKIP_WAITING") void self.skipWaiting();
});

// Background Sync: the outbox is sent even after the page is closed, where the browser supports it.
import { syncOutbox } from "./app/outbox";

self.addEventListener("sync", (event: Event) => {
  const e = event as Event & { tag: string; waitUntil(p: Promise<unknown>): void };
  if (e.tag === "doorpass-outbox") e.waitUntil(syncOutbox(true));
});
