// Live widgets: one EventSource per tab to hubs-sse. A "widget" event carries the
// widget's freshly rendered panel, swapped in place (or, for a feed, just its new
// entries, put on top); a "layout" event means widgets were added, removed or moved, or
// the header changed, so the page's layout is fetched again; a "snapshot" event means
// events were missed, so the layout and every widget are fetched again.

import { text } from "./strings.js";
import { fillPlaceholders, fillWidget, replaceWith } from "./widgets.js";

// ``since``: when the page was rendered, so that its first connection gets what was
// published in between (a reconnection says where it is with Last-Event-ID instead).
export function streamUrl(base, hubPath, user, since, lastEventId) {
  const url = new URL(base, "http://placeholder.invalid");
  url.searchParams.set("hub", hubPath);
  if (user) url.searchParams.set("user", user);
  if (since) url.searchParams.set("since", since);
  if (lastEventId) url.searchParams.set("lastEventId", lastEventId);
  return url.origin === "http://placeholder.invalid" ? url.pathname + url.search : url.toString();
}

export function setIndicator(doc, state) {
  const indicator = doc.querySelector('[data-role="live-indicator"]');
  if (!indicator) return;
  indicator.dataset.state = state;
  indicator.textContent = text(doc, state);
}

// A value made safe inside a quoted CSS attribute selector (msg_ids come from the bus).
export function cssString(value) {
  return String(value).replace(/["\\]/g, "\\$&").replace(/\n/g, "\\a ");
}

function highlight(element, win) {
  if (!element || !element.classList) return;
  element.classList.add("hubs-updated");
  win.setTimeout(() => element.classList.remove("hubs-updated"), 1500);
}

export function applyWidgetEvent(doc, event, win = globalThis, fetchImpl = fetch) {
  const current = doc.getElementById(`widget-${event.widget_id}`);
  if (!current) return null;
  const shown = Number(current.dataset.version || 0);
  if (event.version && shown && event.version <= shown) return null; // stale or replayed
  if (!inPageLanguage(doc, event)) return fetchInPageLanguage(doc, current, win, fetchImpl);
  if (event.prepend && prependEntries(doc, current, event, win)) return current;
  const fresh = replaceWith(current, event.html);
  highlight(fresh, win);
  return fresh;
}

// Events carry panels in one language (English); a page in another one fetches the
// widget's panel in its own, from the server's cache, which already holds the new data.
export function inPageLanguage(doc, event) {
  const lang = doc.documentElement?.lang;
  return !event.locale || !lang || lang === event.locale;
}

function fetchInPageLanguage(doc, current, win, fetchImpl) {
  return fillWidget(current, fetchImpl)
    .then((html) => {
      const fresh = replaceIfNewer(doc, doc.getElementById(current.id) || current, html);
      highlight(fresh, win);
      return fresh;
    })
    .catch(() => null); // keep what is shown; a later event or snapshot brings it
}

// A widget that only gained entries on top (the feed): when the page shows the version
// they were added to, insert them and keep everything else, such as older entries the
// reader loaded with "More". Returns false when the whole panel must be swapped.
export function prependEntries(doc, current, event, win = globalThis) {
  const { role, html, after } = event.prepend;
  if (current.dataset.version !== after) return false;
  const list = current.querySelector(`[data-role="${role}"]`);
  if (!list) return false;
  const template = doc.createElement("template");
  template.innerHTML = html.trim();
  const added = Array.from(template.content.children).filter((entry) => takesThePlaceOf(list, entry));
  list.prepend(...added);
  current.dataset.version = String(event.version);
  for (const entry of added) highlight(entry, win);
  return true;
}

// Whether ``entry`` goes on top of ``list``: it is new there, or it is a run of changes
// that grew (same msg_id, more messages), which then leaves its old place. The same
// entry again, or an older state of it (a late answer), is refused.
export function takesThePlaceOf(list, entry) {
  if (!entry.dataset.msgId) return true;
  const shown = list.querySelector(`[data-msg-id="${cssString(entry.dataset.msgId)}"]`);
  if (!shown) return true;
  if (Number(entry.dataset.count || 1) <= Number(shown.dataset.count || 1)) return false;
  shown.remove();
  return true;
}

// After a snapshot: every widget fetched again, and put in place where it is newer than
// the one shown (a panel of the same version stays, with the older entries its reader
// loaded with "More").
export async function refetchAll(doc, fetchImpl = fetch) {
  const sections = Array.from(doc.querySelectorAll('[data-role="widget"]'));
  await Promise.all(
    sections.map((section) =>
      fillWidget(section, fetchImpl)
        .then((html) => replaceIfNewer(doc, section, html))
        .catch(() => undefined), // keep what is shown; the next event will fix it
    ),
  );
}

export function replaceIfNewer(doc, section, html) {
  const template = doc.createElement("template");
  template.innerHTML = html.trim();
  const fetched = template.content.firstElementChild;
  if (!fetched || !isNewer(fetched, section)) return null;
  section.replaceWith(fetched);
  return fetched;
}

// Whether a panel of a freshly fetched page should replace the one shown: not a loading
// placeholder, and of a newer version (the shown one may hold more, e.g. older feed pages).
export function isNewer(fetched, shown) {
  if (fetched.dataset.state === "loading") return false;
  return Number(fetched.dataset.version || 0) > Number(shown.dataset.version || 0);
}

// Put the layout of ``fetched`` (the hub page as the server renders it now) in place:
// its header, keeping the live indicator, and its columns, keeping every panel shown that
// is at least as new as the fetched one, and the keyboard focus (an owner arranging
// widgets). Returns the new body, or null when this page shows no hub (My Stream).
export function applyLayout(doc, fetched, fetchImpl = fetch) {
  const body = doc.querySelector('[data-role="hub-body"]');
  const freshBody = fetched.querySelector('[data-role="hub-body"]');
  if (!body || !freshBody) return null;
  const header = doc.querySelector('[data-role="hub-header"]');
  const freshHeader = fetched.querySelector('[data-role="hub-header"]');
  if (header && freshHeader) {
    const imported = doc.importNode(freshHeader, true);
    const indicator = header.querySelector('[data-role="live-indicator"]');
    const placeholder = imported.querySelector('[data-role="live-indicator"]');
    if (indicator && placeholder) placeholder.replaceWith(indicator);
    header.replaceWith(imported);
  }
  const focus = focusedControl(doc, body);
  const imported = doc.importNode(freshBody, true);
  for (const panel of Array.from(imported.querySelectorAll('[data-role="widget"]'))) {
    const shown = doc.getElementById(panel.id);
    if (shown && !isNewer(panel, shown)) panel.replaceWith(shown);
  }
  body.replaceWith(imported);
  if (focus) imported.querySelector(focus)?.focus();
  if (fetched.title) doc.title = fetched.title;
  fillPlaceholders(imported, fetchImpl);
  return imported;
}

// A selector finding again, in a redrawn body, the widget control that has the focus in
// ``body`` (its element with a data-role, or the button of a form with one); null when
// no widget control has it.
export function focusedControl(doc, body) {
  const active = doc.activeElement;
  const owner = active?.closest?.("[data-role]");
  const slot = active?.closest?.('[data-role="slot"]');
  if (!owner || !slot || !body.contains(slot) || owner === slot) return null;
  const inside = owner === active ? "" : ` ${active.tagName.toLowerCase()}`;
  return `[data-role="slot"][data-widget-id="${cssString(slot.dataset.widgetId)}"] [data-role="${cssString(owner.dataset.role)}"]${inside}`;
}

// Fetch the page again and put its layout in place. Returns the new body; null when
// there is nothing to do (no hub on this page, the hub is gone, or an owner is moving a
// widget: arrange.js refreshes when they drop it); false when the server could not
// answer now (the caller tries again later).
export async function refreshLayout(doc, fetchImpl = fetch, parse = parseHtml) {
  if (!doc.querySelector('[data-role="hub-body"]') || doc.querySelector("[data-moving]")) return null;
  const { hubPath } = doc.querySelector(HUB_PATH).dataset;
  let response;
  try {
    response = await fetchImpl(hubPath, { headers: { Accept: "text/html" }, credentials: "same-origin" });
  } catch {
    return false;
  }
  if (response.status === 404) return null;
  if (!response.ok) return false;
  const fetched = parse(await response.text());
  if (doc.querySelector("[data-moving]")) return null; // picked up while the page was fetched
  return applyLayout(doc, fetched, fetchImpl);
}

// A layout the server could not give is asked again, every few seconds, until it does.
export const LAYOUT_RETRY_MS = 3000;

export function layoutRefresher(doc, fetchImpl = fetch, win = globalThis) {
  const refresh = coalesced(async () => {
    if ((await refreshLayout(doc, fetchImpl)) === false) win.setTimeout(() => refresh(), LAYOUT_RETRY_MS);
  });
  return refresh;
}

function parseHtml(html) {
  return new DOMParser().parseFromString(html, "text/html");
}

// One layout fetch at a time: events arriving meanwhile (an owner moving several widgets)
// are answered by one more fetch once it ends, so the last change is always shown.
export function coalesced(task) {
  let running = null;
  let again = false;
  const run = () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await task().catch(() => undefined);
      } while (again);
    })().finally(() => {
      running = null;
    });
    return running;
  };
  return run;
}

// A new entry of My Stream: fetch it as the page shows entries (through the page's
// filters: none when they leave it out), put it on top.
export async function addStreamEntry(doc, event, user, fetchImpl = fetch, win = globalThis) {
  const list = doc.querySelector('[data-role="stream"]');
  if (!list || list.querySelector(`[data-msg-id="${cssString(event.msg_id)}"]`)) return null;
  const filters = doc.querySelector("[data-filters]")?.dataset.filters;
  const url =
    `/u/${encodeURIComponent(user)}/stream/entry?msg_id=${encodeURIComponent(event.msg_id)}` +
    (filters ? `&${filters}` : "");
  const response = await fetchImpl(url, { credentials: "same-origin" });
  if (!response.ok || response.status === 204) return null;
  const template = doc.createElement("template");
  template.innerHTML = (await response.text()).trim();
  const entry = template.content.firstElementChild;
  if (!entry || !takesThePlaceOf(list, entry)) return null;
  list.prepend(entry);
  highlight(entry, win);
  return entry;
}

// The navbar's counts (unread stream entries, requests to join one's hubs), as the
// server counts them now; a count of 0 hides its notice.
export async function refreshNotifications(doc, fetchImpl = fetch) {
  const navbar = doc.querySelector("[data-notifications-url]");
  if (!navbar) return null;
  const response = await fetchImpl(navbar.dataset.notificationsUrl, {
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  });
  if (!response.ok) return null;
  const counts = await response.json();
  showCount(doc, "unread", counts.unread, counts.unread_text);
  showCount(doc, "requests", counts.requests, String(counts.requests));
  return counts;
}

function showCount(doc, name, count, text) {
  const notice = doc.querySelector(`[data-role="${name}-notice"]`);
  const badge = doc.querySelector(`[data-role="${name}-count"]`);
  if (!notice || !badge) return;
  badge.textContent = text;
  notice.hidden = !count;
}

// My Stream read (opened, or an entry marked read or unread) in one tab: the reader's
// other tabs of this browser fetch their counts again, having no event to say so.
export function shareCounts(doc, win = globalThis, fetchImpl = fetch) {
  const navbar = doc.querySelector("[data-notifications-url]");
  if (!navbar || !win.BroadcastChannel) return null;
  const channel = new win.BroadcastChannel(`hubs-counts:${navbar.dataset.user}`);
  channel.addEventListener("message", () => refreshNotifications(doc, fetchImpl));
  if (doc.querySelector('[data-role="stream"]')) channel.postMessage("read");
  return channel;
}

// Where a page names the hub it shows (the navbar names the reader's own hub, outside
// <main>); a hub page says it whether or not it is live.
export const HUB_PATH = "main [data-hub-path]";

// The page's stream: its hub's (a hub page, My Stream) or, elsewhere, the navbar's, which
// names the reader's own hub; the reader's private stream comes with either.
export function streamRoot(doc) {
  return doc.querySelector("main [data-sse-url]") || doc.querySelector('[data-role="navbar"][data-sse-url]');
}

// How long a page waits before opening its stream again when the browser gave up on it
// (an answer that was not a stream, e.g. hubs-sse's 503 while the database is away): the
// first wait, and the longest as it doubles.
export const REOPEN_MS = [1000, 30000];

export function connect(doc, { EventSourceImpl = globalThis.EventSource, fetchImpl = fetch, win = globalThis } = {}) {
  const root = streamRoot(doc);
  if (!root || !EventSourceImpl) return null;
  const { sseUrl, hubPath, since } = root.dataset;
  const user = root.dataset.user || doc.querySelector('[data-role="navbar"]')?.dataset.user;
  const layout = layoutRefresher(doc, fetchImpl, win);
  const notifications = coalesced(() => refreshNotifications(doc, fetchImpl));
  let lastEventId = null;
  let wait = REOPEN_MS[0];
  const open = () => {
    const url = lastEventId
      ? streamUrl(sseUrl, hubPath, user, null, lastEventId)
      : streamUrl(sseUrl, hubPath, user, since);
    const source = new EventSourceImpl(url, { withCredentials: true });
    const on = (kind, handler) =>
      source.addEventListener(kind, (message) => {
        if (message?.lastEventId) lastEventId = message.lastEventId;
        return handler(message);
      });
    setIndicator(doc, "connecting");
    on("open", () => {
      wait = REOPEN_MS[0];
      setIndicator(doc, "live");
    });
    on("error", () => {
      setIndicator(doc, "reconnecting");
      // The browser retries a stream that broke off by itself, but not one refused.
      if (source.readyState === 2) {
        win.setTimeout(open, wait);
        wait = Math.min(wait * 2, REOPEN_MS[1]);
      }
    });
    on("widget", (message) => applyWidgetEvent(doc, JSON.parse(message.data), win, fetchImpl));
    on("layout", () => layout());
    on("snapshot", () => {
      notifications();
      return layout().then(() => refetchAll(doc, fetchImpl));
    });
    on("stream-entry", (message) => {
      notifications();
      return addStreamEntry(doc, JSON.parse(message.data), user, fetchImpl, win);
    });
    on("notifications", () => notifications());
    return source;
  };
  return open();
}

if (typeof document !== "undefined") {
  window.hubsLive = connect(document);
  window.hubsCounts = shareCounts(document, window);
}
