// What the scripts say, in the page's language: base.html holds the server's
// translations in a JSON block (hubs.i18n.client_strings), keyed as below; without it
// (a test, a page of another app) the English here is said.

export const ENGLISH = {
  live: "live",
  connecting: "connecting…",
  reconnecting: "reconnecting…",
  widget_failed: "Couldn't load this widget.",
  widget_failed_hint: "Check your connection and reload the page.",
  widget: "Widget",
  unreachable: "The server could not be reached; nothing was changed.",
  server_answered: "The server answered %(status)s.",
  place_left: "%(label)s: left column, %(position)s of %(count)s.",
  place_right: "%(label)s: right column, %(position)s of %(count)s.",
  picked_up: "Picked up. %(place)s Arrow keys move it, Space or Enter drops it, Escape cancels.",
  moved: "Moved. %(place)s",
  stays: "%(label)s stays where it was.",
  cancelled: "Cancelled. %(label)s is back where it was.",
  no_further: "%(label)s cannot go further that way.",
  form_failed: "This form could not be loaded; try again.",
  field_error: "%(field)s %(reason)s",
  edit_on: "Edit mode: move, configure, add or remove widgets.",
  edit_off: "Edit mode is off.",
};

const loaded = new WeakMap();

// The page's strings (read once a document), or none.
function pageStrings(doc) {
  if (!doc || typeof doc !== "object") return {};
  if (!loaded.has(doc)) {
    let strings = {};
    try {
      strings = JSON.parse(doc.getElementById?.("hubs-strings")?.textContent || "{}");
    } catch {
      strings = {}; // a broken block: English rather than nothing
    }
    loaded.set(doc, strings);
  }
  return loaded.get(doc);
}

// ``template`` with its %(name)s placeholders (Python's, as translators see them) filled.
export function format(template, values = {}) {
  return template.replace(/%(?:\((\w+)\)[sd]|%)/g, (match, name) => (name ? String(values[name]) : "%"));
}

// The text ``key`` of the page ``doc``, its placeholders filled from ``values``.
export function text(doc, key, values = {}) {
  const strings = pageStrings(doc);
  return format(typeof strings[key] === "string" ? strings[key] : ENGLISH[key], values);
}
