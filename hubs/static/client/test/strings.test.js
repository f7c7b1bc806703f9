import assert from "node:assert/strict";
import { test } from "node:test";

import { ENGLISH, format, text } from "../strings.js";

// A page holding ``block`` as its strings' JSON (null: no block at all).
function fakePage(block) {
  return {
    getElementById: (id) => (id === "hubs-strings" && block !== null ? { textContent: block } : null),
  };
}

test("format fills named placeholders and leaves the rest of the text", () => {
  assert.equal(format("%(label)s: %(count)d of 100%%", { label: "Note", count: 3 }), "Note: 3 of 100%");
});

test("text is the page's translation, its placeholders filled", () => {
  const page = fakePage(JSON.stringify({ stays: "%(label)s reste où il était." }));
  assert.equal(text(page, "stays", { label: "Note" }), "Note reste où il était.");
});

test("text falls back to English without a page, a block, or the key", () => {
  assert.equal(text(null, "live"), "live");
  assert.equal(text(fakePage(null), "reconnecting"), "reconnecting…");
  assert.equal(text(fakePage(JSON.stringify({ live: "en direct" })), "edit_off"), ENGLISH.edit_off);
});

test("a broken block means English, not an error", () => {
  assert.equal(text(fakePage("{not json"), "moved", { place: "Here." }), "Moved. Here.");
});
