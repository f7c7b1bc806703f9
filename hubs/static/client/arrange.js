// A hub's edit mode, for its owners. "Edit this hub" shows the controls in place, with no
// reload. A widget moves by its handle: dragged with a mouse (HTML5 drag events) or a
// finger or pen (pointer events), or with the keyboard (Space or Enter picks it up, the
// arrow keys move it, Space or Enter drops it, Escape puts it back), each step said by
// an aria-live region. Configure, Add and Remove open their page's form in a <dialog>;
// every change goes to the JSON API (/api + the form's path), a refused field is shown
// beside it, and the page redraws its layout from the server. Without this script the
// same links and forms work, page by page, in ?edit=1.

import { HUB_PATH, refreshLayout } from "./live.js";
import { text } from "./strings.js";
import { fillWidget, replaceWith } from "./widgets.js";

export const COLUMNS = ["left", "right"];

// -- what moves where (no DOM: tested with node) ---------------------------------------

// Where widget ``id`` is in ``layout`` ({left: [ids], right: [ids]}), or null.
export function placeOf(layout, id) {
  for (const column of COLUMNS) {
    const index = layout[column].indexOf(id);
    if (index >= 0) return { column, index };
  }
  return null;
}

// ``layout`` with widget ``id`` at ``index`` (clamped) of ``column``, the others closing up.
export function moveInLayout(layout, id, column, index) {
  const moved = Object.fromEntries(COLUMNS.map((each) => [each, layout[each].filter((other) => other !== id)]));
  moved[column].splice(Math.max(0, Math.min(index, moved[column].length)), 0, id);
  return moved;
}

// Where an arrow key takes widget ``id``: up or down its column, or across to the same
// height of the other column (its bottom at most); null where it cannot go.
export function keyTarget(layout, id, key) {
  const here = placeOf(layout, id);
  if (!here) return null;
  const { column, index } = here;
  if (key === "ArrowUp") return index > 0 ? { column, index: index - 1 } : null;
  if (key === "ArrowDown") return index < layout[column].length - 1 ? { column, index: index + 1 } : null;
  const across = { ArrowLeft: "left", ArrowRight: "right" }[key];
  if (!across || across === column) return null;
  return { column: across, index: Math.min(index, layout[across].length) };
}

// The place a drop at height ``y`` takes among widgets whose middles are at ``middles``
// (top to bottom, the moving one left out).
export function dropIndex(middles, y) {
  return middles.filter((middle) => middle < y).length;
}

// What the aria-live region says of a widget's place (``doc``: the page, in its language).
export function placeSentence(label, place, count, doc = null) {
  return text(doc, `place_${place.column}`, { label, position: place.index + 1, count });
}

const TOP_LEVEL = new Set(["plugin", "column", "title"]);
const NOT_SENT = new Set(["csrf_token", "next"]);

// The JSON body of a form's ``fields`` ({name, type, value, checked}): the widget's kind,
// column and title as they are, every other field a setting in "config" (a checkbox: true
// or false); the CSRF token (sent as a header) and the way back are left out. A form of
// settings (``withConfig``) always sends its config, even with no setting in it.
export function requestBody(fields, { withConfig = false } = {}) {
  const body = {};
  const config = {};
  for (const field of fields) {
    if (!field.name || NOT_SENT.has(field.name)) continue;
    const value = field.type === "checkbox" ? Boolean(field.checked) : field.value;
    if (TOP_LEVEL.has(field.name)) body[field.name] = value;
    else config[field.name] = value;
  }
  if (withConfig || Object.keys(config).length) body.config = config;
  return body;
}

// The JSON API's address for what a form posts to.
export function apiPath(action, base) {
  return `/api${new URL(action, base).pathname}`;
}

// -- the page --------------------------------------------------------------------------

const SLOT = '[data-role="slot"]';
const HANDLE = '[data-role="drag-handle"]';

function hubOf(doc) {
  return doc.querySelector('[data-role="hub"]');
}

function hubPath(doc) {
  return doc.querySelector(HUB_PATH).dataset.hubPath;
}

function editing(doc) {
  return hubOf(doc)?.dataset.editMode === "on";
}

function columnOf(doc, column) {
  return doc.querySelector(`[data-role="column-${column}"]`);
}

export function layoutOf(doc) {
  return Object.fromEntries(
    COLUMNS.map((column) => [
      column,
      Array.from(columnOf(doc, column)?.querySelectorAll(`:scope > ${SLOT}`) || [], (slot) => slot.dataset.widgetId),
    ]),
  );
}

// Put ``slot`` at ``place`` in the page (above the column's "Add a widget here").
function putSlot(doc, slot, place) {
  const column = columnOf(doc, place.column);
  const others = Array.from(column.querySelectorAll(`:scope > ${SLOT}`)).filter((other) => other !== slot);
  const before = others[place.index] || column.querySelector(':scope > [data-role^="add-widget-"]');
  if (slot.parentElement !== column || slot.nextElementSibling !== before) column.insertBefore(slot, before);
}

function labelOf(slot) {
  const title = slot.querySelector('[data-role="widget-title"]');
  return title
    ? title.textContent.trim()
    : slot.querySelector('[data-role="widget"]')?.dataset.plugin || text(slot.ownerDocument, "widget");
}

function announce(doc, text) {
  const region = doc.querySelector('[data-role="edit-announcer"]');
  if (region) region.textContent = text;
}

async function postJson(doc, path, body) {
  const token = doc.querySelector('meta[name="csrf-token"]')?.content || "";
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": token },
      body: JSON.stringify(body),
    });
  } catch {
    return { ok: false, document: { message: text(doc, "unreachable") } };
  }
  const document = await response
    .json()
    .catch(() => ({ message: text(doc, "server_answered", { status: response.status }) }));
  return { ok: response.ok, document };
}

// -- moving a widget: one move at a time, by mouse, finger or keyboard -------------------

let moving = null; // {slot, origin, handle}

function pickUp(doc, slot) {
  moving = { slot, origin: placeOf(layoutOf(doc), slot.dataset.widgetId) };
  slot.dataset.moving = "";
  slot.querySelector(HANDLE)?.setAttribute("aria-pressed", "true");
}

function endMove() {
  const { slot } = moving;
  delete slot.dataset.moving;
  slot.querySelector(HANDLE)?.setAttribute("aria-pressed", "false");
  moving = null;
  return slot;
}

function moveTo(doc, place) {
  const layout = layoutOf(doc);
  const current = placeOf(layout, moving.slot.dataset.widgetId);
  if (current.column === place.column && current.index === place.index) return false;
  putSlot(doc, moving.slot, place);
  return true;
}

// Send where the widget is now; then draw the layout the server has, whatever it answered.
async function drop(doc) {
  const { origin } = moving;
  const id = moving.slot.dataset.widgetId;
  const layout = layoutOf(doc);
  const place = placeOf(layout, id);
  const label = labelOf(moving.slot);
  if (place.column === origin.column && place.index === origin.index) {
    endMove();
    announce(doc, text(doc, "stays", { label }));
    return;
  }
  const answer = await postJson(doc, `/api${hubPath(doc)}w/${id}/move`, { column: place.column, position: place.index });
  endMove();
  const placed = placeSentence(label, place, layout[place.column].length, doc);
  announce(doc, answer.ok ? text(doc, "moved", { place: placed }) : answer.document.message);
  await refreshLayout(doc);
}

async function cancel(doc) {
  const { origin } = moving;
  putSlot(doc, moving.slot, origin);
  const slot = endMove();
  announce(doc, text(doc, "cancelled", { label: labelOf(slot) }));
  await refreshLayout(doc); // layout changes that came meanwhile were held back
}

// A drop at (x, y): the column there, and the place among its widgets.
function placeAt(doc, x, y, target) {
  const column = (target || doc.elementFromPoint(x, y))?.closest?.('[data-role^="column-"]');
  if (!column) return null;
  const name = column.dataset.role.replace("column-", "");
  const middles = Array.from(column.querySelectorAll(`:scope > ${SLOT}`))
    .filter((slot) => slot !== moving.slot)
    .map((slot) => {
      const box = slot.getBoundingClientRect();
      return box.top + box.height / 2;
    });
  return { column: name, index: dropIndex(middles, y) };
}

function onKeyDown(doc, event) {
  const handle = event.target.closest?.(HANDLE);
  if (!handle || !editing(doc)) return;
  const slot = handle.closest(SLOT);
  const label = labelOf(slot);
  if (!moving) {
    if (event.key !== " " && event.key !== "Enter") return;
    event.preventDefault();
    pickUp(doc, slot);
    const layout = layoutOf(doc);
    const place = placeOf(layout, slot.dataset.widgetId);
    const placed = placeSentence(label, place, layout[place.column].length, doc);
    announce(doc, text(doc, "picked_up", { place: placed }));
    return;
  }
  if (moving.slot !== slot) return;
  if (event.key === " " || event.key === "Enter") {
    event.preventDefault();
    drop(doc);
  } else if (event.key === "Escape") {
    event.preventDefault();
    cancel(doc);
  } else if (event.key === "Tab") {
    cancel(doc); // leaving the handle puts the widget back; the focus moves on
  } else if (event.key.startsWith("Arrow")) {
    event.preventDefault();
    const place = keyTarget(layoutOf(doc), slot.dataset.widgetId, event.key);
    if (!place) {
      announce(doc, text(doc, "no_further", { label }));
      return;
    }
    moveTo(doc, place);
    handle.focus(); // moving the element took the focus away
    handle.scrollIntoView({ block: "nearest" });
    announce(doc, placeSentence(label, place, layoutOf(doc)[place.column].length, doc));
  }
}

function onDragStart(doc, event) {
  const handle = event.target.closest?.(HANDLE);
  if (!handle || !editing(doc) || moving) return;
  const slot = handle.closest(SLOT);
  pickUp(doc, slot);
  moving.dragged = true;
  event.dataTransfer.effectAllowed = "move";
  event.dataTransfer.setData("text/plain", slot.dataset.widgetId);
  event.dataTransfer.setDragImage(slot, 24, 24);
}

function onDragOver(doc, event) {
  if (!moving?.dragged) return;
  const place = placeAt(doc, event.clientX, event.clientY, event.target);
  if (!place) return;
  event.preventDefault(); // a drop is welcome here
  event.dataTransfer.dropEffect = "move";
  moveTo(doc, place);
}

function onDrop(doc, event) {
  if (!moving?.dragged) return;
  event.preventDefault();
  moving.dropped = true;
  drop(doc);
}

function onDragEnd(doc) {
  if (moving?.dragged && !moving.dropped) cancel(doc);
}

// Touch and pen: the handle follows the finger (a mouse uses the drag events above).
function onPointerDown(doc, event) {
  const handle = event.target.closest?.(HANDLE);
  if (!handle || event.pointerType === "mouse" || !editing(doc) || moving) return;
  event.preventDefault();
  handle.setPointerCapture(event.pointerId);
  pickUp(doc, handle.closest(SLOT));
  moving.pointerId = event.pointerId;
}

// How near the window's top or bottom edge a finger scrolls the page (the columns are
// stacked on a phone: the other one is off the screen).
const SCROLL_EDGE = 48;

function onPointerMove(doc, event) {
  if (moving?.pointerId !== event.pointerId) return;
  const win = doc.defaultView;
  if (event.clientY < SCROLL_EDGE) win.scrollBy(0, -SCROLL_EDGE / 2);
  else if (event.clientY > win.innerHeight - SCROLL_EDGE) win.scrollBy(0, SCROLL_EDGE / 2);
  const place = placeAt(doc, event.clientX, event.clientY);
  if (place) moveTo(doc, place);
}

function onPointerUp(doc, event) {
  if (moving?.pointerId !== event.pointerId) return;
  if (event.type === "pointercancel") cancel(doc);
  else drop(doc);
}

// -- the ↑, ↓ and ⇄ forms, sent without leaving the page ---------------------------------

async function onMoveForm(doc, form) {
  const slot = form.closest(SLOT);
  const role = form.dataset.role;
  const answer = await postJson(doc, apiPath(form.action, doc.baseURI), {
    column: form.elements.column.value,
    position: Number(form.elements.position.value),
  });
  announce(doc, answer.document.message);
  await refreshLayout(doc);
  // The focus stays with the widget: on the same arrow, or its handle when that one went.
  const here = doc.querySelector(`${SLOT}[data-widget-id="${slot.dataset.widgetId}"]`);
  (here?.querySelector(`[data-role="${role}"] button`) || here?.querySelector(HANDLE))?.focus();
}

// -- configure, add, remove: their forms in a dialog -------------------------------------

function dialogOf(doc) {
  let dialog = doc.querySelector('dialog[data-role="edit-dialog"]');
  if (!dialog) {
    dialog = doc.createElement("dialog");
    dialog.className = "hubs-edit-dialog";
    dialog.dataset.role = "edit-dialog";
    doc.body.append(dialog);
    dialog.addEventListener("submit", (event) => onDialogSubmit(doc, dialog, event));
    dialog.addEventListener("click", (event) => {
      if (event.target.closest('[data-role="cancel"]')) {
        event.preventDefault();
        dialog.close();
      }
    });
  }
  return dialog;
}

// Show the form of the page at ``url`` (a form page of hubs/views/forms.py) in the dialog.
async function openForm(doc, url) {
  let response;
  try {
    response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
  } catch {
    response = null;
  }
  if (!response?.ok) {
    announce(doc, text(doc, "form_failed"));
    return;
  }
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  const content = page.querySelector("main");
  content.querySelectorAll('[data-role="flash"]').forEach((flash) => flash.remove());
  const dialog = dialogOf(doc);
  const error = doc.createElement("div");
  error.className = "alert alert-danger d-none";
  error.setAttribute("role", "alert");
  error.dataset.role = "dialog-error";
  dialog.replaceChildren(error, ...Array.from(content.childNodes, (node) => doc.importNode(node, true)));
  const heading = dialog.querySelector("h1");
  if (heading) {
    heading.id = "hubs-edit-dialog-title";
    dialog.setAttribute("aria-labelledby", heading.id);
  }
  dialog.dataset.src = url;
  if (!dialog.open) dialog.showModal();
  dialog.querySelector("select, input:not([type=hidden]), textarea, button")?.focus();
}

async function onDialogSubmit(doc, dialog, event) {
  const form = event.target;
  event.preventDefault();
  if (form.method === "get") {
    const url = new URL(form.getAttribute("action") || dialog.dataset.src, doc.baseURI);
    url.search = new URLSearchParams(new FormData(form)).toString();
    return openForm(doc, url.toString());
  }
  const path = apiPath(form.action, doc.baseURI);
  const body = requestBody(Array.from(form.elements), { withConfig: form.dataset.role === "widget-form" });
  const submit = form.querySelector('[type="submit"]');
  if (submit) submit.disabled = true;
  const answer = await postJson(doc, path, body);
  if (submit) submit.disabled = false;
  if (!answer.ok) return showErrors(doc, dialog, form, answer.document);
  dialog.close();
  announce(doc, answer.document.message);
  const configured = path.match(/\/w\/(\d+)\/config$/);
  const section = configured && doc.getElementById(`widget-${configured[1]}`);
  if (section) await fillWidget(section).then((html) => replaceWith(section, html)).catch(() => undefined);
  await refreshLayout(doc);
}

// Each refused field's reason beside it, as the form page shows it; the rest above.
function showErrors(doc, dialog, form, answer) {
  form.querySelectorAll('[data-role^="error-"]').forEach((old) => old.remove());
  form.querySelectorAll(".is-invalid").forEach((control) => {
    control.classList.remove("is-invalid");
    control.removeAttribute("aria-invalid");
  });
  const unplaced = [];
  let first = null;
  for (const [name, reason] of Object.entries(answer.errors || {})) {
    const field = form.querySelector(`[data-role="field-${name}"]`);
    const control = field?.querySelector(`[name="${name}"]`);
    if (!control) {
      unplaced.push(text(doc, "field_error", { field: name, reason }));
      continue;
    }
    const message = doc.createElement("div");
    message.className = "invalid-feedback d-block";
    message.dataset.role = `error-${name}`;
    message.id = `hubs-error-${name}`;
    const label = field.querySelector("label")?.textContent.trim() || name;
    message.textContent = text(doc, "field_error", { field: label, reason });
    control.classList.add("is-invalid");
    control.setAttribute("aria-invalid", "true");
    control.setAttribute("aria-describedby", message.id);
    field.insertBefore(message, field.querySelector(".form-text"));
    first = first || control;
  }
  const error = dialog.querySelector('[data-role="dialog-error"]');
  const general = first && !unplaced.length ? "" : [answer.message, ...unplaced].filter(Boolean).join(" ");
  error.textContent = general;
  error.classList.toggle("d-none", !general);
  (first || error).focus?.();
}

// -- the mode ------------------------------------------------------------------------

function setMode(doc, on) {
  hubOf(doc).dataset.editMode = on ? "on" : "off";
  doc.defaultView.history.replaceState(null, "", hubPath(doc) + (on ? "?edit=1" : ""));
  announce(doc, text(doc, on ? "edit_on" : "edit_off"));
  const next = doc.querySelector(on ? '[data-role="done-editing"]' : '[data-role="edit-hub"]');
  next?.focus();
}

const DIALOG_LINKS = '[data-role="configure"], [data-role="remove"], [data-role^="add-widget-"]';

export function start(doc) {
  if (!hubOf(doc) || !doc.querySelector('[data-role="edit-bar"]')) return;
  doc.documentElement.classList.add("hubs-js");
  doc.addEventListener("click", (event) => {
    const toggle = event.target.closest?.('[data-role="edit-hub"], [data-role="done-editing"]');
    if (toggle) {
      event.preventDefault();
      setMode(doc, toggle.dataset.role === "edit-hub");
      return;
    }
    const link = event.target.closest?.(DIALOG_LINKS);
    if (link && editing(doc) && !link.closest("dialog") && typeof HTMLDialogElement === "function") {
      event.preventDefault();
      openForm(doc, link.href);
    }
  });
  doc.addEventListener("submit", (event) => {
    const form = event.target.closest?.('[data-role="move-up"], [data-role="move-down"], [data-role="move-across"]');
    if (!form || !editing(doc)) return;
    event.preventDefault();
    onMoveForm(doc, form);
  });
  doc.addEventListener("keydown", (event) => onKeyDown(doc, event));
  doc.addEventListener("dragstart", (event) => onDragStart(doc, event));
  doc.addEventListener("dragover", (event) => onDragOver(doc, event));
  doc.addEventListener("drop", (event) => onDrop(doc, event));
  doc.addEventListener("dragend", () => onDragEnd(doc));
  doc.addEventListener("pointerdown", (event) => onPointerDown(doc, event));
  doc.addEventListener("pointermove", (event) => onPointerMove(doc, event));
  doc.addEventListener("pointerup", (event) => onPointerUp(doc, event));
  doc.addEventListener("pointercancel", (event) => onPointerUp(doc, event));
}

if (typeof document !== "undefined") {
  start(document);
}
