import assert from "node:assert/strict";
import { test } from "node:test";

import { apiPath, dropIndex, keyTarget, moveInLayout, placeOf, placeSentence, requestBody } from "../arrange.js";
import { focusedControl } from "../live.js";

const layout = { left: ["1", "2", "3"], right: ["4"] };

test("placeOf finds a widget's column and index", () => {
  assert.deepEqual(placeOf(layout, "3"), { column: "left", index: 2 });
  assert.deepEqual(placeOf(layout, "4"), { column: "right", index: 0 });
  assert.equal(placeOf(layout, "9"), null);
});

test("moveInLayout puts a widget in its place and the others close up", () => {
  assert.deepEqual(moveInLayout(layout, "1", "left", 2), { left: ["2", "3", "1"], right: ["4"] });
  assert.deepEqual(moveInLayout(layout, "2", "right", 0), { left: ["1", "3"], right: ["2", "4"] });
  assert.deepEqual(moveInLayout(layout, "2", "right", 99), { left: ["1", "3"], right: ["4", "2"] });
  assert.deepEqual(moveInLayout(layout, "4", "left", -5), { left: ["4", "1", "2", "3"], right: [] });
  assert.deepEqual(layout, { left: ["1", "2", "3"], right: ["4"] }); // the given one is kept
});

test("arrow keys move up, down and across; never past an end", () => {
  assert.deepEqual(keyTarget(layout, "2", "ArrowUp"), { column: "left", index: 0 });
  assert.deepEqual(keyTarget(layout, "2", "ArrowDown"), { column: "left", index: 2 });
  assert.equal(keyTarget(layout, "1", "ArrowUp"), null); // the top: "Widget moved" would lie
  assert.equal(keyTarget(layout, "3", "ArrowDown"), null);
  assert.deepEqual(keyTarget(layout, "3", "ArrowRight"), { column: "right", index: 1 }); // its bottom at most
  assert.deepEqual(keyTarget(layout, "1", "ArrowRight"), { column: "right", index: 0 });
  assert.deepEqual(keyTarget(layout, "4", "ArrowLeft"), { column: "left", index: 0 });
  assert.equal(keyTarget(layout, "1", "ArrowLeft"), null);
  assert.equal(keyTarget(layout, "1", "PageUp"), null);
  assert.equal(keyTarget(layout, "9", "ArrowUp"), null);
});

test("a drop takes the place of the first widget whose middle is below it", () => {
  const middles = [100, 300, 500];
  assert.equal(dropIndex(middles, 50), 0);
  assert.equal(dropIndex(middles, 150), 1);
  assert.equal(dropIndex(middles, 499), 2);
  assert.equal(dropIndex(middles, 900), 3);
  assert.equal(dropIndex([], 900), 0);
});

test("a place is said with its column and its rank, counted from one", () => {
  assert.equal(placeSentence("Note", { column: "right", index: 0 }, 3), "Note: right column, 1 of 3.");
});

test("a form becomes the JSON API's body: settings in config, no token nor way back", () => {
  const fields = [
    { name: "csrf_token", type: "hidden", value: "t" },
    { name: "next", type: "hidden", value: "/t/infra/?edit=1" },
    { name: "plugin", type: "hidden", value: "github" },
    { name: "column", type: "hidden", value: "right" },
    { name: "title", type: "text", value: "Our code" },
    { name: "what", type: "select-one", value: "issues" },
    { name: "limit", type: "number", value: "5" },
    { name: "archived", type: "checkbox", checked: false, value: "on" },
    { name: "", type: "submit", value: "" },
  ];
  assert.deepEqual(requestBody(fields, { withConfig: true }), {
    plugin: "github",
    column: "right",
    title: "Our code",
    config: { what: "issues", limit: "5", archived: false },
  });
  // A widget without settings still sends its (empty) config; a confirmation sends nothing.
  assert.deepEqual(requestBody([{ name: "title", type: "text", value: "" }], { withConfig: true }), {
    title: "",
    config: {},
  });
  assert.deepEqual(requestBody(fields.slice(0, 2)), {});
});

test("the API's path is /api and the form's path", () => {
  assert.equal(apiPath("/t/infra/w/3/config", "http://hubs.test/t/infra/"), "/api/t/infra/w/3/config");
  assert.equal(apiPath("http://hubs.test/t/infra/w/3/delete", "http://hubs.test/"), "/api/t/infra/w/3/delete");
});

// Just enough of a DOM element for focusedControl: closest() over a chain of parents.
function element(tag, dataset, parent) {
  return {
    tagName: tag.toUpperCase(),
    dataset,
    parent,
    closest(selector) {
      for (let node = this; node; node = node.parent) {
        if (selector === "[data-role]" && node.dataset.role) return node;
        if (selector === '[data-role="slot"]' && node.dataset.role === "slot") return node;
      }
      return null;
    },
  };
}

test("the focus on a widget's control is found again after a layout redraw", () => {
  const slot = element("div", { role: "slot", widgetId: "7" });
  const handle = element("button", { role: "drag-handle" }, slot);
  const form = element("form", { role: "move-up" }, slot);
  const arrow = element("button", {}, form);
  const body = { contains: () => true };
  assert.equal(
    focusedControl({ activeElement: handle }, body),
    '[data-role="slot"][data-widget-id="7"] [data-role="drag-handle"]',
  );
  assert.equal(
    focusedControl({ activeElement: arrow }, body),
    '[data-role="slot"][data-widget-id="7"] [data-role="move-up"] button',
  );
  assert.equal(focusedControl({ activeElement: slot }, body), null);
  assert.equal(focusedControl({ activeElement: null }, body), null);
  assert.equal(focusedControl({ activeElement: handle }, { contains: () => false }), null);
});
