"""User markdown is rendered without scripts, event handlers or javascript: links."""

import re

import pytest

from hubs.markup import render_markdown
from hubs.widgets import registry
from tests import factories
from tests.html import elements

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="javascript:alert(1)">',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="&#106;avascript:alert(1)">click</a>',
    '<a href=" javascript:alert(1)">click</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "![x](javascript:alert(1))",
    '<iframe src="https://evil.example"></iframe>',
    '<body onload="alert(1)">',
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<p onmouseover="alert(1)">hover</p>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<form action="javascript:alert(1)"><input type=submit></form>',
    '<math><a xlink:href="javascript:alert(1)">x</a></math>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<link rel="stylesheet" href="javascript:alert(1)">',
    "<details open ontoggle=alert(1)>",
    '<a href="https://ok.example" onclick="alert(1)">ok</a>',
    "<<script>script>alert(1)<</script>/script>",
    '<style>@import "javascript:alert(1)";</style>',
    "`<script>alert(1)</script>` and <b onclick=x>b</b>",
]

FORBIDDEN_TAGS = {
    "script", "iframe", "object", "embed", "form", "style", "meta", "link", "svg", "math",
    "body", "details", "input",
}  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "action", "data", "xlink:href", "formaction"}


def dangerous_parts(html: str) -> list[str]:
    """What in ``html`` could run script: tags, handlers, style, script URLs.

    The page's own module script is not user content and is left out."""
    found = []
    for element in elements(html):
        tag = element["<tag>"]
        if tag == "script" and element.get("src", "").startswith("/static/client/"):
            continue
        if tag in FORBIDDEN_TAGS:
            found.append(f"<{tag}>")
        for name, value in element.items():
            if name.startswith("on") or name == "style":
                found.append(f"{tag} {name}=")
            scheme = re.sub(r"[\s\x00-\x1f]", "", value).lower().split(":", 1)[0]
            if name in URL_ATTRIBUTES and scheme in {"javascript", "vbscript", "data"}:
                found.append(f"{tag} {name}={value}")
    return found


def test_at_least_twenty_payloads():
    assert len(XSS_PAYLOADS) >= 20


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_render_markdown_strips_payload(payload):
    html = render_markdown(payload)
    assert dangerous_parts(html) == [], html


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_sticky_and_about_strip_payload(client, session, payload):
    hub = factories.hub(session, "xss", description=payload, summary=payload[:200])
    sticky = factories.widget(session, hub, "sticky", text=payload)
    about = factories.widget(session, hub, "about")
    session.commit()
    for widget in (sticky, about):
        response = client.get(widget.url_path)
        assert response.status_code == 200
        assert dangerous_parts(response.text) == [], response.text
    page = client.get("/t/xss/").text
    assert dangerous_parts(page.split("<main", 1)[1].split("</main>", 1)[0]) == []


def test_safe_markdown_survives():
    html = render_markdown("**bold** [Fedora](https://fedoraproject.org) `code`\n\n- a\n- b")
    assert "<strong>bold</strong>" in html
    assert 'href="https://fedoraproject.org"' in html
    assert 'rel="nofollow noopener"' in html
    assert "<code>code</code>" in html
    assert "<li>a</li>" in html


def test_registry_sticky_renders_markdown(app_context, session):
    hub = factories.hub(session)
    sticky = factories.widget(session, hub, "sticky", text="# Title")
    assert registry["sticky"].compute(session, sticky) == {"html": "<h1>Title</h1>"}
