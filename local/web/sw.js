// The service worker: shows the offline notification a push service
// delivered (the payload the browser decrypted, docs/PROTOCOL.md "Offline
// notifications": {roomId, senderId, count, seq, body?}) and, clicked,
// focuses the app on that room or opens it there. Served at /sw.js, so its
// scope is the whole app.

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

/** The notification a payload shows; the body only when the server sent one. */
function notificationOf(p) {
  const count = Number(p.count) || 1;
  const text = typeof p.body === 'string' ? p.body : count > 1 ? `${count} new messages` : 'New message';
  return {
    title: typeof p.senderId === 'string' ? p.senderId : 'New message',
    options: {
      body: text,
      // One notification per room: a newer one replaces it.
      tag: typeof p.roomId === 'string' ? `room:${p.roomId}` : 'chat',
      renotify: true,
      data: { roomId: p.roomId, seq: p.seq },
    },
  };
}

self.addEventListener('push', (event) => {
  let payload = {};
  try {
    payload = event.data ? event.data.json() : {};
  } catch {
    payload = {};
  }
  const { title, options } = notificationOf(payload);
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const roomId = event.notification.data && event.notification.data.roomId;
  const url = new URL(roomId ? `./#/r/${encodeURIComponent(roomId)}` : './', self.registration.scope).href;
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const open = windows.find((w) => new URL(w.url).origin === self.location.origin);
      if (open) {
        await open.focus();
        open.postMessage({ type: 'openRoom', roomId });
        return;
      }
      await self.clients.openWindow(url);
    })(),
  );
});
