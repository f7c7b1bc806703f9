import assert from "node:assert/strict";
import { test } from "node:test";

import {
  applyWidgetEvent,
  coalesced,
  connect,
  cssString,
  isNewer,
  layoutRefresher,
  prependEntries,
  refetchAll,
  refreshLayout,
  refreshNotifications,
  setIndicator,
  shareCounts,
  streamRoot,
  streamUrl,
} from "../live.js";

// A document with widgets by id, each replaceable; enough for live.js.
function fakeDocument(widgets) {
  const indicator = { dataset: {}, textContent: "" };
  const root = { dataset: { sseUrl: "http://localhost:8080/stream", hubPath: "/t/infra/" } };
  const elements = new Map();
  const doc = {
    indicator,
    elements,
    getElementById: (id) => elements.get(id) || null,
    querySelector: (selector) =>
      selector === '[data-role="live-indicator"]' ? indicator : selector === "main [data-sse-url]" ? root : null,
    querySelectorAll: () => Array.from(elements.values()),
    createElement: () => ({
      set innerHTML(html) {
        const version = Number((html.match(/data-version="(\d+)"/) || [])[1] || 0);
        this.content = { firstElementChild: makeWidget(doc, html, version) };
      },
    }),
  };
  for (const [id, version] of widgets) elements.set(`widget-${id}`, makeWidget(doc, `old ${id}`, version, id));
  return doc;
}

function makeWidget(doc, html, version, id) {
  const classes = new Set();
  const widget = {
    html,
    id,
    ownerDocument: doc,
    dataset: { version: String(version), src: `/t/infra/w/${id}/` },
    classList: { add: (c) => classes.add(c), remove: (c) => classes.delete(c), has: (c) => classes.has(c) },
    replaceWith(fresh) {
      fresh.id = this.id;
      doc.elements.set(`widget-${this.id}`, fresh);
    },
  };
  return widget;
}

const noTimers = { setTimeout: () => 0 };

test("streamUrl keeps absolute and relative bases", () => {
  assert.equal(streamUrl("http://localhost:8080/stream", "/t/infra/"), "http://localhost:8080/stream?hub=%2Ft%2Finfra%2F");
  assert.equal(streamUrl("/sse/stream", "/u/ralph/", "ralph"), "/sse/stream?hub=%2Fu%2Fralph%2F&user=ralph");
  // A page's first connection says when the page was rendered.
  assert.equal(
    streamUrl("/sse/stream", "/t/infra/", undefined, "1796182254.460"),
    "/sse/stream?hub=%2Ft%2Finfra%2F&since=1796182254.460",
  );
});

test("a widget event swaps that widget only, highlighted", () => {
  const doc = fakeDocument([[1, 10], [2, 10]]);
  const fresh = applyWidgetEvent(doc, { widget_id: 1, version: 11, html: '<section data-version="11">new</section>' }, noTimers);
  assert.ok(fresh.classList.has("hubs-updated"));
  assert.match(doc.getElementById("widget-1").html, /new/);
  assert.equal(doc.getElementById("widget-2").html, "old 2");
});

test("a page in another language fetches the panel in its own instead of the event's", async () => {
  const doc = fakeDocument([[1, 10], [2, 10]]);
  doc.documentElement = { lang: "fr" };
  const asked = [];
  const fetchImpl = async (url) => {
    asked.push(url);
    return { ok: true, text: async () => '<section data-version="11">nouveau</section>' };
  };
  const event = { widget_id: 1, version: 11, locale: "en", html: '<section data-version="11">new</section>' };
  const fresh = await applyWidgetEvent(doc, event, noTimers, fetchImpl);
  assert.deepEqual(asked, ["/t/infra/w/1/"]);
  assert.match(doc.getElementById("widget-1").html, /nouveau/);
  assert.ok(fresh.classList.has("hubs-updated"));
  // In the event's language, its panel goes in as it is, with nothing fetched.
  doc.documentElement = { lang: "en" };
  applyWidgetEvent(doc, { ...event, widget_id: 2 }, noTimers, fetchImpl);
  assert.match(doc.getElementById("widget-2").html, /new/);
  assert.equal(asked.length, 1);
});

test("an older or replayed version is ignored", () => {
  const doc = fakeDocument([[1, 10]]);
  assert.equal(applyWidgetEvent(doc, { widget_id: 1, version: 9, html: "<p>older</p>" }, noTimers), null);
  assert.equal(applyWidgetEvent(doc, { widget_id: 1, version: 10, html: "<p>same</p>" }, noTimers), null);
  assert.equal(doc.getElementById("widget-1").html, "old 1");
});

test("an event for a widget not on the page is ignored", () => {
  assert.equal(applyWidgetEvent(fakeDocument([]), { widget_id: 5, version: 1, html: "<p/>" }, noTimers), null);
});

test("the indicator says live or reconnecting", () => {
  const doc = fakeDocument([]);
  setIndicator(doc, "live");
  assert.deepEqual([doc.indicator.dataset.state, doc.indicator.textContent], ["live", "live"]);
  setIndicator(doc, "reconnecting");
  assert.equal(doc.indicator.textContent, "reconnecting…");
});

test("connect opens one EventSource with credentials and wires the events", () => {
  const doc = fakeDocument([[1, 10]]);
  const opened = [];
  class FakeEventSource {
    constructor(url, options) {
      this.listeners = {};
      opened.push([url, options]);
    }
    addEventListener(name, listener) {
      this.listeners[name] = listener;
    }
  }
  const source = connect(doc, { EventSourceImpl: FakeEventSource, win: noTimers });
  assert.deepEqual(opened, [["http://localhost:8080/stream?hub=%2Ft%2Finfra%2F", { withCredentials: true }]]);
  source.listeners.open();
  assert.equal(doc.indicator.dataset.state, "live");
  source.listeners.widget({ data: JSON.stringify({ widget_id: 1, version: 12, html: '<b data-version="12">x</b>' }) });
  assert.match(doc.getElementById("widget-1").html, /x/);
  source.listeners.error();
  assert.equal(doc.indicator.dataset.state, "reconnecting");
});

test("a stream the browser gave up on is opened again, from the last event it had", () => {
  const doc = fakeDocument([[1, 10]]);
  const sources = [];
  class FakeEventSource {
    constructor(url) {
      this.url = url;
      this.listeners = {};
      this.readyState = 0;
      sources.push(this);
    }
    addEventListener(name, listener) {
      this.listeners[name] = listener;
    }
  }
  const timers = [];
  const win = { setTimeout: (callback, ms) => timers.push([callback, ms]) };
  connect(doc, { EventSourceImpl: FakeEventSource, win });
  const [first] = sources;
  first.listeners.open();
  first.listeners.widget({ lastEventId: "41", data: JSON.stringify({ widget_id: 1, version: 12, html: "<b>x</b>" }) });
  timers.length = 0; // the new panel's highlight
  first.readyState = 0; // broke off: the browser reconnects by itself
  first.listeners.error();
  assert.equal(timers.length, 0);
  first.readyState = 2; // refused (a 503): the browser gave up
  first.listeners.error();
  assert.equal(doc.indicator.dataset.state, "reconnecting");
  assert.deepEqual(timers.map(([, ms]) => ms), [1000]);
  timers[0][0]();
  assert.equal(sources.length, 2);
  assert.equal(sources[1].url, "http://localhost:8080/stream?hub=%2Ft%2Finfra%2F&lastEventId=41");
  sources[1].readyState = 2;
  sources[1].listeners.error(); // refused again: it waits longer
  assert.deepEqual(timers.map(([, ms]) => ms), [1000, 2000]);
  timers[1][0]();
  sources[2].listeners.open();
  assert.equal(doc.indicator.dataset.state, "live");
});

test("a snapshot refetches every widget", async () => {
  const doc = fakeDocument([[1, 10], [2, 10]]);
  const asked = [];
  const fetchImpl = async (url) => {
    asked.push(url);
    return { ok: true, status: 200, text: async () => `<section data-version="20">${url}</section>` };
  };
  await refetchAll(doc, fetchImpl);
  assert.deepEqual(asked.sort(), ["/t/infra/w/1/", "/t/infra/w/2/"]);
  assert.match(doc.getElementById("widget-2").html, /w\/2/);
});

test("a snapshot keeps a panel the server has no newer version of", async () => {
  // widget 1 shows version 20 with older entries its reader loaded; widget 2 is behind
  const doc = fakeDocument([[1, 20], [2, 10]]);
  doc.getElementById("widget-1").html = "version 20 with two pages of entries";
  const fetchImpl = async (url) => ({
    ok: true,
    status: 200,
    text: async () => `<section data-version="20">${url}</section>`,
  });
  await refetchAll(doc, fetchImpl);
  assert.equal(doc.getElementById("widget-1").html, "version 20 with two pages of entries");
  assert.match(doc.getElementById("widget-2").html, /w\/2/);
});

// A list of entries by msg_id (and count), enough for the stream's and the feed's code.
function entryList(ids) {
  const list = {
    entries: [],
    querySelector(selector) {
      const id = selector.match(/data-msg-id="([^"]+)"/)[1];
      return this.entries.find((e) => e.dataset.msgId === id) || null;
    },
    prepend(...added) {
      this.entries.unshift(...added);
    },
  };
  list.entries = ids.map((id) => entry(list, id));
  return list;
}

function entry(list, msgId, count = "1", html = "") {
  return {
    html,
    dataset: { msgId, count },
    classList: { add() {}, remove() {} },
    remove() {
      list.entries = list.entries.filter((e) => e !== this);
    },
  };
}

function entriesOf(list, html) {
  return [...html.matchAll(/data-msg-id="([^"]+)"(?: data-count="(\d+)")?/g)].map((m) =>
    entry(list, m[1], m[2] || "1", m[0]),
  );
}

function streamPage() {
  const list = entryList([]);
  const doc = {
    querySelector: (selector) => (selector === '[data-role="stream"]' ? list : null),
    createElement: () => ({
      set innerHTML(html) {
        this.content = { firstElementChild: entriesOf(list, html)[0] || null };
      },
    }),
  };
  return { list, doc };
}

test("a stream entry is fetched and put on top, once", async () => {
  const { list, doc } = streamPage();
  const asked = [];
  const fetchImpl = async (url) => {
    asked.push(url);
    return { ok: true, status: 200, text: async () => ' <li data-msg-id="m-1" data-count="1">entry</li> ' };
  };
  const { addStreamEntry } = await import("../live.js");
  await addStreamEntry(doc, { msg_id: "m-1" }, "ralph", fetchImpl, noTimers);
  await addStreamEntry(doc, { msg_id: "m-1" }, "ralph", fetchImpl, noTimers);
  assert.deepEqual(asked, ["/u/ralph/stream/entry?msg_id=m-1"]);
  assert.deepEqual(list.entries.map((e) => e.dataset.msgId), ["m-1"]);
});

test("a run of changes that grew takes the place of the one shown; a late, smaller answer does not", async () => {
  const { list, doc } = streamPage();
  list.entries = [entry(list, "other"), entry(list, "run-1", "2")];
  const answers = { "run-3": 3, "run-2": 2 };
  const fetchImpl = async (url) => {
    const count = answers[url.split("msg_id=")[1]];
    return { ok: true, status: 200, text: async () => `<li data-msg-id="run-1" data-count="${count}"></li>` };
  };
  const { addStreamEntry } = await import("../live.js");
  await addStreamEntry(doc, { msg_id: "run-3" }, "ralph", fetchImpl, noTimers);
  assert.deepEqual(list.entries.map((e) => [e.dataset.msgId, e.dataset.count]), [["run-1", "3"], ["other", "1"]]);
  await addStreamEntry(doc, { msg_id: "run-2" }, "ralph", fetchImpl, noTimers); // answered late
  assert.deepEqual(list.entries.map((e) => [e.dataset.msgId, e.dataset.count]), [["run-1", "3"], ["other", "1"]]);
});

// A feed panel showing entries by msg_id, enough for prependEntries.
function feedPanel(version, ids) {
  const list = entryList(ids);
  const panel = { dataset: { version }, querySelector: (s) => (s === '[data-role="feed"]' ? list : null) };
  const doc = {
    createElement: () => ({
      set innerHTML(html) {
        this.content = { children: entriesOf(list, html) };
      },
    }),
  };
  return { panel, list, doc };
}

const newEntries = (version, after, ...ids) => ({
  widget_id: 1,
  version,
  prepend: { role: "feed", after, html: ids.map((id) => `<li data-msg-id="${id}"></li>`).join("") },
});

// Versions as the server makes them: microseconds since 1970, exact as JSON numbers.
const V1 = 1795836149854979;
const V2 = V1 + 1500;
const V3 = V2 + 2700;

test("new feed entries go on top, again and again, keeping the older ones loaded", () => {
  const { panel, list, doc } = feedPanel(String(V1), ["b", "a", "older-1", "older-2"]);
  const first = JSON.parse(JSON.stringify(newEntries(V2, String(V1), "d", "c", "b")));
  assert.equal(prependEntries(doc, panel, first, noTimers), true);
  assert.equal(panel.dataset.version, String(V2));
  const second = JSON.parse(JSON.stringify(newEntries(V3, String(V2), "e")));
  assert.equal(prependEntries(doc, panel, second, noTimers), true);
  assert.deepEqual(list.entries.map((e) => e.dataset.msgId), ["e", "d", "c", "b", "a", "older-1", "older-2"]);
  assert.equal(panel.dataset.version, String(V3));
});

test("entries meant for another version are refused: the panel is swapped instead", () => {
  const { panel, list, doc } = feedPanel(String(V1), ["a"]);
  assert.equal(prependEntries(doc, panel, newEntries(V3, String(V2), "c"), noTimers), false);
  assert.deepEqual(list.entries.map((e) => e.dataset.msgId), ["a"]);
  assert.equal(panel.dataset.version, String(V1));
});

test("msg_ids are quoted safely in selectors", () => {
  assert.equal(cssString('2026-ab"]'), '2026-ab\\"]');
  assert.equal(cssString("a\\b"), "a\\\\b");
});

test("layout fetches are coalesced: one at a time, and one more for what came meanwhile", async () => {
  const started = [];
  let release;
  const task = () => {
    started.push(started.length);
    return new Promise((resolve) => {
      release = resolve;
    });
  };
  const refresh = coalesced(task);
  const first = refresh();
  refresh();
  refresh(); // three events during the first fetch: one more fetch, not three
  assert.equal(started.length, 1);
  release();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(started.length, 2);
  release();
  await first;
  assert.equal(started.length, 2);
  refresh(); // a later event starts a fetch of its own
  assert.equal(started.length, 3);
  release();
});

test("a failed layout fetch does not stop the next ones", async () => {
  let calls = 0;
  const refresh = coalesced(async () => {
    calls += 1;
    throw new Error("the server is away");
  });
  await refresh();
  await refresh();
  assert.equal(calls, 2);
});

test("a fetched panel replaces the shown one only when it is newer and not a placeholder", () => {
  const panel = (version, state) => ({ dataset: { version: String(version), ...(state ? { state } : {}) } });
  assert.equal(isNewer(panel(11), panel(10)), true);
  assert.equal(isNewer(panel(10), panel(10)), false);
  assert.equal(isNewer(panel(9), panel(10)), false);
  assert.equal(isNewer(panel(0, "loading"), panel(10)), false);
});

test("a feed's run of changes that grew moves to the top, in place of the one shown", () => {
  const { panel, list, doc } = feedPanel(String(V1), ["run", "a"]);
  const grown = {
    widget_id: 1,
    version: V2,
    prepend: { role: "feed", after: String(V1), html: '<li data-msg-id="new"></li><li data-msg-id="run" data-count="4"></li>' },
  };
  assert.equal(prependEntries(doc, panel, grown, noTimers), true);
  assert.deepEqual(list.entries.map((e) => [e.dataset.msgId, e.dataset.count]), [["new", "1"], ["run", "4"], ["a", "1"]]);
});

test("a layout the server could not give is asked again later; a gone hub is not", async () => {
  const timers = [];
  const win = { setTimeout: (callback, ms) => timers.push([callback, ms]) };
  const doc = {
    querySelector: (selector) =>
      selector === '[data-role="hub-body"]'
        ? {}
        : selector === "main [data-hub-path]"
          ? { dataset: { hubPath: "/t/infra/" } }
          : null,
  };
  const answers = [new TypeError("network down"), { ok: false, status: 503 }, { ok: false, status: 404 }];
  const asked = [];
  const fetchImpl = async (url) => {
    asked.push(url);
    const answer = answers.shift();
    if (answer instanceof Error) throw answer;
    return answer;
  };
  const refresh = layoutRefresher(doc, fetchImpl, win);
  await refresh();
  assert.equal(timers.length, 1); // the network failed: once more, later
  await timers.shift()[0]();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(timers.length, 1); // a 503: once more, later
  await timers.shift()[0]();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(timers.length, 0); // a 404: the hub is gone, nothing to retry
  assert.deepEqual(asked, ["/t/infra/", "/t/infra/", "/t/infra/"]);
});

// A document of selectors to elements, enough for the navbar's code.
function documentOf(elements) {
  return { querySelector: (selector) => elements[selector] || null };
}

test("the stream of a hub page is its hub's; elsewhere the navbar's, with the reader", () => {
  const header = { dataset: { sseUrl: "/stream", hubPath: "/t/infra/" } };
  const navbar = { dataset: { sseUrl: "/stream", hubPath: "/u/ralph/", user: "ralph" } };
  const onHub = documentOf({ "main [data-sse-url]": header, '[data-role="navbar"][data-sse-url]': navbar });
  assert.equal(streamRoot(onHub), header);
  assert.equal(streamRoot(documentOf({ '[data-role="navbar"][data-sse-url]': navbar })), navbar);

  const opened = [];
  class FakeEventSource {
    constructor(url) {
      opened.push(url);
    }
    addEventListener() {}
  }
  const withNavbar = documentOf({
    "main [data-sse-url]": header,
    '[data-role="navbar"]': navbar,
    '[data-role="live-indicator"]': { dataset: {} },
  });
  connect(withNavbar, { EventSourceImpl: FakeEventSource, win: noTimers });
  assert.deepEqual(opened, ["/stream?hub=%2Ft%2Finfra%2F&user=ralph"]);
});

test("the navbar's counts follow the server's, a count of 0 hiding its notice", async () => {
  const badge = () => ({ textContent: "" });
  const elements = {
    "[data-notifications-url]": { dataset: { notificationsUrl: "/u/ralph/notifications" } },
    '[data-role="unread-notice"]': { hidden: true },
    '[data-role="unread-count"]': badge(),
    '[data-role="requests-notice"]': { hidden: false },
    '[data-role="requests-count"]': badge(),
  };
  const asked = [];
  const fetchImpl = async (url) => {
    asked.push(url);
    return { ok: true, json: async () => ({ unread: 100, unread_text: "99+", requests: 0 }) };
  };
  await refreshNotifications(documentOf(elements), fetchImpl);
  assert.deepEqual(asked, ["/u/ralph/notifications"]);
  assert.equal(elements['[data-role="unread-count"]'].textContent, "99+");
  assert.equal(elements['[data-role="unread-notice"]'].hidden, false);
  assert.equal(elements['[data-role="requests-count"]'].textContent, "0");
  assert.equal(elements['[data-role="requests-notice"]'].hidden, true);
});

test("a filtered stream asks for a new entry through its filters", async () => {
  const list = { querySelector: () => null, prepend() {} };
  const doc = documentOf({
    '[data-role="stream"]': list,
    "[data-filters]": { dataset: { filters: "service=bodhi&mine=1" } },
  });
  const asked = [];
  const fetchImpl = async (url) => {
    asked.push(url);
    return { ok: true, status: 204, text: async () => "" };
  };
  const { addStreamEntry } = await import("../live.js");
  assert.equal(await addStreamEntry(doc, { msg_id: "m 1" }, "ralph", fetchImpl, noTimers), null);
  assert.deepEqual(asked, ["/u/ralph/stream/entry?msg_id=m%201&service=bodhi&mine=1"]);
});

test("a tab that read My Stream tells the reader's other tabs to count again", async () => {
  const channels = [];
  class FakeChannel {
    constructor(name) {
      this.name = name;
      this.posted = [];
      this.listeners = [];
      channels.push(this);
    }
    addEventListener(kind, listener) {
      this.listeners.push(listener);
    }
    postMessage(message) {
      this.posted.push(message);
    }
  }
  const navbar = { dataset: { notificationsUrl: "/u/ralph/notifications", user: "ralph" } };
  const home = documentOf({ "[data-notifications-url]": navbar });
  const stream = documentOf({ "[data-notifications-url]": navbar, '[data-role="stream"]': {} });
  const asked = [];
  const fetchImpl = async (url) => {
    asked.push(url);
    return { ok: false };
  };
  shareCounts(home, { BroadcastChannel: FakeChannel }, fetchImpl);
  shareCounts(stream, { BroadcastChannel: FakeChannel }, fetchImpl);
  assert.deepEqual(channels.map((c) => [c.name, c.posted]), [["hubs-counts:ralph", []], ["hubs-counts:ralph", ["read"]]]);
  channels[0].listeners[0]({ data: "read" });
  assert.deepEqual(asked, ["/u/ralph/notifications"]);
  assert.equal(shareCounts(documentOf({}), { BroadcastChannel: FakeChannel }), null); // a visitor
});

test("no layout is drawn over a widget an owner is moving: it is redrawn when they drop it", async () => {
  let moving = true;
  const doc = {
    querySelector: (selector) =>
      ({
        '[data-role="hub-body"]': {},
        "main [data-hub-path]": { dataset: { hubPath: "/t/infra/" } },
        "[data-moving]": moving ? {} : null,
      })[selector] ?? null,
  };
  const asked = [];
  const fetchImpl = async (url) => {
    asked.push(url);
    moving = true; // picked up while the page was on its way
    return { ok: true, status: 200, text: async () => "<html></html>" };
  };
  const untouchable = () => ({
    querySelector: () => {
      throw new Error("the fetched layout was applied");
    },
  });
  assert.equal(await refreshLayout(doc, fetchImpl, untouchable), null);
  assert.deepEqual(asked, []); // held: not even fetched
  moving = false;
  assert.equal(await refreshLayout(doc, fetchImpl, untouchable), null);
  assert.deepEqual(asked, ["/t/infra/"]);
});
