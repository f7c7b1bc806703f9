import assert from "node:assert/strict";
import { test } from "node:test";

import { fillPlaceholders, fillWidget, showError } from "../widgets.js";

// Just enough of a DOM section for widgets.js: dataset, replaceWith, querySelector.
function fakeSection(src) {
  const body = { innerHTML: "Loading…" };
  const section = {
    dataset: { src, state: "loading" },
    replacedWith: null,
    querySelector: (selector) => (selector === ".card-body" ? body : null),
    replaceWith(node) {
      this.replacedWith = node;
    },
    ownerDocument: {
      createElement: () => ({
        set innerHTML(html) {
          this.content = { firstElementChild: { html } };
        },
      }),
    },
    body,
  };
  return section;
}

function fakeRoot(sections) {
  return {
    querySelectorAll(selector) {
      assert.equal(selector, '[data-role="widget"][data-state="loading"]');
      return sections;
    },
  };
}

const respond = (status, text) => async () => ({ ok: status < 400, status, text: async () => text });

test("fillWidget asks for the widget's own URL as HTML", async () => {
  const calls = [];
  const fetchImpl = async (url, options) => {
    calls.push([url, options.headers.Accept, options.credentials]);
    return { ok: true, status: 200, text: async () => "<section>done</section>" };
  };
  const html = await fillWidget(fakeSection("/t/infra/w/3/"), fetchImpl);
  assert.equal(html, "<section>done</section>");
  assert.deepEqual(calls, [["/t/infra/w/3/", "text/html", "same-origin"]]);
});

test("fillWidget rejects on an HTTP error", async () => {
  await assert.rejects(fillWidget(fakeSection("/t/infra/w/3/"), respond(502, "")), /answered 502/);
});

test("fillPlaceholders replaces each placeholder with its fetched panel", async () => {
  const sections = [fakeSection("/t/infra/w/1/"), fakeSection("/t/infra/w/2/")];
  const fetchImpl = async (url) => ({ ok: true, status: 200, text: async () => ` <p>${url}</p> ` });
  await fillPlaceholders(fakeRoot(sections), fetchImpl);
  assert.deepEqual(
    sections.map((s) => s.replacedWith.html),
    ["<p>/t/infra/w/1/</p>", "<p>/t/infra/w/2/</p>"],
  );
});

test("a failed placeholder shows an error and the others still fill", async () => {
  const good = fakeSection("/t/infra/w/1/");
  const bad = fakeSection("/t/infra/w/2/");
  const fetchImpl = async (url) =>
    url.endsWith("/2/")
      ? Promise.reject(new TypeError("network down"))
      : { ok: true, status: 200, text: async () => "<p>ok</p>" };
  await fillPlaceholders(fakeRoot([good, bad]), fetchImpl);
  assert.equal(good.replacedWith.html, "<p>ok</p>");
  assert.equal(bad.dataset.state, "error");
  assert.match(bad.body.innerHTML, /data-role="widget-error"/);
});

test("showError leaves a section without a body alone", () => {
  const section = fakeSection("/x/");
  section.querySelector = () => null;
  showError(section);
  assert.equal(section.dataset.state, "error");
});

test("loadMore appends the next page and replaces the link", async () => {
  const appended = [];
  const list = { append: (...items) => appended.push(...items) };
  let replacedBy = null;
  const nextLink = { id: "next" };
  const link = {
    getAttribute: () => "/u/ralph/w/3/more?before=x&id=9",
    parentElement: { querySelector: () => list },
    replaceWith: (node) => (replacedBy = node),
    remove: () => (replacedBy = "removed"),
    ownerDocument: {
      createElement: () => ({
        set innerHTML(html) {
          this.html = html;
          this.content = {
            querySelector: (selector) =>
              selector === '[data-role="feed-page"]' ? { children: ["li1", "li2"] } : html.includes("more") ? nextLink : null,
          };
        },
      }),
    },
  };
  const { loadMore } = await import("../widgets.js");
  await loadMore(link, async () => ({ ok: true, status: 200, text: async () => "<ul></ul> more" }));
  assert.deepEqual(appended, ["li1", "li2"]);
  assert.equal(replacedBy, nextLink);
  await loadMore(link, async () => ({ ok: true, status: 200, text: async () => "<ul></ul>" }));
  assert.equal(replacedBy, "removed");
});
