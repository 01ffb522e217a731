/**
 * Registers the consoles' service worker (`/console/sw.js`, scope `/console/`), which keeps
 * the consoles' pages and bundles so they open with no network after the first visit.
 */
export function registerServiceWorker(): void {
  if (!("serviceWorker" in navigator)) return;
  // A failed registration (an insecure origin, private mode) leaves a console that works online.
  navigator.serviceWorker.register("/console/sw.js", { scope: "/console/" }).catch(() => undefined);
}
