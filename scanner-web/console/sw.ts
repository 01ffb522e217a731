/**
 * The consoles' service worker. At install it keeps the consoles' pages and their hashed
 * bundles, stylesheet and icon (the build writes their names in as `PRECACHE`); afterwards a
 * page is asked of the network first and served from the cache when there is none, and a
 * hashed file (whose bytes never change) from the cache first. Nothing else passes through
 * it: API answers, which carry a person's or organisation's data and credentials, are never
 * kept, nor are requests with an Authorization header.
 */
declare const PRECACHE: { version: string; pages: string[]; assets: string[] };
/** What this worker uses of its global scope (the project compiles with the DOM's types, not the worker's). */
interface SwEvent extends Event {
  waitUntil: (promise: Promise<unknown>) => void;
}
interface SwFetchEvent extends SwEvent {
  request: Request;
  respondWith: (response: Promise<Response> | Response) => void;
}
declare const self: {
  location: Location;
  skipWaiting: () => Promise<void>;
  clients: { claim: () => Promise<void> };
  addEventListener: ((type: "install" | "activate", listener: (event: SwEvent) => void) => void) &
    ((type: "fetch", listener: (event: SwFetchEvent) => void) => void);
};
export {};

const CACHE = `oioc-consoles-${PRECACHE.version}`;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll([...PRECACHE.pages, ...PRECACHE.assets]))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(names.filter((n) => n.startsWith("oioc-consoles-") && n !== CACHE).map((n) => caches.delete(n))),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || request.headers.has("authorization")) return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (PRECACHE.pages.includes(url.pathname)) {
    event.respondWith(
      fetch(request)
        .then(async (response) => {
          if (response.ok) await (await caches.open(CACHE)).put(url.pathname, response.clone());
          return response;
        })
        .catch(async () => (await caches.match(url.pathname, { cacheName: CACHE })) ?? Response.error()),
    );
    return;
  }
  if (PRECACHE.assets.includes(url.pathname)) {
    event.respondWith(caches.match(url.pathname, { cacheName: CACHE }).then((hit) => hit ?? fetch(request)));
  }
});
