// Fill the widgets the server could not draw from its cache: each loading
// placeholder fetches its own HTML, so a slow widget only delays itself.

import { text } from "./strings.js";

export async function fillWidget(section, fetchImpl = fetch) {
  const response = await fetchImpl(section.dataset.src, {
    headers: { Accept: "text/html" },
    credentials: "same-origin",
  });
  if (!response.ok) {
    throw new Error(`${section.dataset.src} answered ${response.status}`);
  }
  return response.text();
}

export function replaceWith(section, html) {
  const template = section.ownerDocument.createElement("template");
  template.innerHTML = html.trim();
  const fresh = template.content.firstElementChild;
  if (fresh) {
    section.replaceWith(fresh);
  }
  return fresh;
}

// Text made safe to put in HTML.
function escaped(value) {
  return value.replace(/[&<>"]/g, (char) => `&#${char.charCodeAt(0)};`);
}

export function showError(section) {
  section.dataset.state = "error";
  const body = section.querySelector(".card-body");
  if (body) {
    const doc = section.ownerDocument;
    body.innerHTML =
      '<div class="alert alert-warning mb-0" role="alert" data-role="widget-error">' +
      `<strong>${escaped(text(doc, "widget_failed"))}</strong> ` +
      `<span class="d-block small">${escaped(text(doc, "widget_failed_hint"))}</span></div>`;
  }
}

export function fillPlaceholders(root = document, fetchImpl = fetch) {
  const sections = root.querySelectorAll('[data-role="widget"][data-state="loading"]');
  return Promise.all(
    Array.from(sections, (section) =>
      fillWidget(section, fetchImpl)
        .then((html) => replaceWith(section, html))
        .catch(() => showError(section)),
    ),
  );
}

// "More" in an activity feed, "Older" in My Stream: fetch the next page, append it.
const PAGED = {
  "feed-more": ['[data-role="feed"]', '[data-role="feed-page"]'],
  "stream-older": ['[data-role="stream"]', '[data-role="stream-page"]'],
};

export async function loadMore(link, fetchImpl = fetch) {
  const [listSelector, pageSelector] = PAGED[link.dataset?.role || "feed-more"];
  const response = await fetchImpl(link.getAttribute("href"), { credentials: "same-origin" });
  if (!response.ok) throw new Error(`${link.getAttribute("href")} answered ${response.status}`);
  const template = link.ownerDocument.createElement("template");
  template.innerHTML = await response.text();
  const list = link.parentElement.querySelector(listSelector);
  const page = template.content.querySelector(pageSelector);
  if (list && page) list.append(...page.children);
  const next = template.content.querySelector(`[data-role="${link.dataset?.role || "feed-more"}"]`);
  if (next) link.replaceWith(next);
  else link.remove();
}

if (typeof document !== "undefined") {
  fillPlaceholders();
  document.addEventListener("click", (event) => {
    const link =
      event.target.closest && event.target.closest('[data-role="feed-more"], [data-role="stream-older"]');
    if (!link) return;
    event.preventDefault();
    loadMore(link).catch(() => link.classList.add("disabled"));
  });
  // Icons from services this machine cannot reach: hide them rather than show broken.
  document.addEventListener(
    "error",
    (event) => {
      if (event.target.tagName === "IMG") event.target.classList.add("hubs-broken");
    },
    true,
  );
}
