"""Every page in the reader's language: the catalogs are complete and current, every text
a page shows is marked for translation, and a French reader finds no English left but
people's own words and other services' sentences.

The pages are those of `make run` (the demo hubs, the corpus in the message store, the
external widgets on their recordings), read by a visitor and by a team's owner.

How "every text is marked" is seen: a catalog made here for a language Hubs has none for
(Esperanto) translates each msgid into itself between ⟦ and ⟧. Rendered in it, a page's
text is either inside such marks, or people's own words: a piece of some text the site
holds (a row of the database, a recording, a message's sentence from fedmsg.meta).
"""

from __future__ import annotations

import contextlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from hubs.app import create_app
from hubs.cache import close_cache
from hubs.database import db, upgrade
from hubs.entries import entry
from hubs.i18n import TRANSLATIONS_DIR
from hubs.models import Base, Hub, HubRevision, HubType, Membership, Message, Role, User, Widget
from hubs.seed import CORPUS, HELP_CALLS, load_messages, populate
from tests.conftest import log_in

ROOT = Path(__file__).resolve().parent.parent
POT = Path(TRANSLATIONS_DIR) / "messages.pot"
FRENCH = Path(TRANSLATIONS_DIR) / "fr" / "LC_MESSAGES" / "messages.po"
LANGUAGES = sorted(p.name for p in Path(TRANSLATIONS_DIR).iterdir() if p.is_dir())
PSEUDO = "eo"  # a language Hubs has no catalog for
OPEN, CLOSE = "⟦", "⟧"
# Attributes people read (or hear, with a screen reader).
READ_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")
# Texts the same in English and French that no catalog holds: names of things.
SAME_IN_FRENCH = {
    "…/export",
    "Fedora Hubs",
    "Pagure",
    "GitHub",
    "Bugzilla",
    "Bodhi",
    "FAS",
    "Koji",
    "IRC",
}


def _extracted() -> dict[str, tuple]:
    """The msgids in the source, as `make catalogs` extracts them."""
    method_map = [("hubs/**.py", "python"), ("hubs/**/templates/**.html", "jinja2")]
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_ngettext": (1, 2)}
    found: dict[str, tuple] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, keywords=keywords
    ):
        key = message if isinstance(message, str) else message[0]
        found[key] = message if isinstance(message, tuple) else (message,)
    return found


def _catalog(path: Path, locale: str | None = None) -> Catalog:
    with open(path, "rb") as handle:
        return read_po(handle, locale=locale)


def test_the_template_holds_every_marked_string_and_nothing_more():
    extracted = set(_extracted())
    template = {message.id if isinstance(message.id, str) else message.id[0]
                for message in _catalog(POT) if message.id}  # fmt: skip
    assert extracted - template == set(), "run `make catalogs`: the template lacks these"
    assert template - extracted == set(), "run `make catalogs`: the template holds stale ones"


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_catalog_is_complete_checked_and_compiled(language):
    folder = Path(TRANSLATIONS_DIR) / language / "LC_MESSAGES"
    catalog = _catalog(folder / "messages.po", language)
    template = {m.id for m in _catalog(POT) if m.id}
    assert {m.id for m in catalog if m.id} == template, "run `make catalogs`"
    untranslated = [m.id for m in catalog if m.id and (m.fuzzy or not all(_strings(m)))]
    assert untranslated == []
    # Babel's checks: the same placeholders in each translation as in its msgid.
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()]
    assert problems == []
    with open(folder / "messages.mo", "rb") as handle:
        compiled = read_mo(handle)
    assert {_key(m.id): _key(m.string) for m in compiled if m.id} == {
        _key(m.id): _key(m.string) for m in catalog if m.id
    }, "run `make catalogs`: the .mo is older than the .po"


def _key(value):
    return tuple(value) if isinstance(value, list | tuple) else value


def _strings(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def _pseudo_catalog(folder: Path) -> None:
    """A catalog of PSEUDO translating each msgid into itself between marks."""
    catalog = Catalog(locale=PSEUDO)
    for message in _catalog(POT):
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            string = tuple(f"{OPEN}{form}{CLOSE}" for form in message.id)
        else:
            string = f"{OPEN}{message.id}{CLOSE}"
        catalog.add(message.id, string, flags=message.flags)
    target = folder / PSEUDO / "LC_MESSAGES"
    target.mkdir(parents=True)
    with open(target / "messages.mo", "wb") as handle:
        write_mo(handle, catalog)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """`make run`'s site on a SQLite file, with a pseudo-language beside the real ones."""
    where = tmp_path_factory.mktemp("translations")
    url = f"sqlite:///{where / 'hubs.db'}"
    upgrade(url)
    _pseudo_catalog(where / "pseudo")
    config = {
        "TESTING": True, "SECRET_KEY": "translations-secret", "DATABASE_URL": url,
        "VAR_DIR": str(where), "CACHE_BACKEND": "dogpile.cache.memory",
        "FEDMSG_PUBLISH": False, "BACKEND_EVENTS_ENDPOINT": None, "DEMO_MODE": True,
        "WTF_CSRF_ENABLED": False,
        "LANGUAGES": ["en", *[code for code in LANGUAGES if code != "en"], PSEUDO],
        "BABEL_TRANSLATION_DIRECTORIES": f"{TRANSLATIONS_DIR};{where / 'pseudo'}",
    }  # fmt: skip
    app = create_app(config)
    with app.app_context():
        quiet = lambda line: None  # noqa: E731
        populate(db.session, say=quiet)
        load_messages(db.session, CORPUS, say=quiet)
        load_messages(db.session, str(HELP_CALLS), say=quiet, days=21)
        pages = _pages(db.session)
        db.session.remove()
    _who, hub = pages["team hub, owner"]
    with app.test_client() as client:  # a change, for the history to show a revision
        log_in(client, pages["team hub, owner"][0])
        changed = client.post(f"/api{hub}settings", json={"summary": "Keeping Fedora running"})
        assert changed.status_code == 200, changed.text
    with app.app_context():
        revision = db.session.scalar(sa.select(sa.func.max(HubRevision.id)))
        pages["revision"] = (pages["history"][0], f"{hub}history/{revision}/")
        corpus = _people_words(db.session, app.config)
        db.session.remove()
    yield app, pages, corpus
    close_cache()


def _pages(session) -> dict[str, tuple[str | None, str]]:
    """Every kind of page: its name -> (who reads it, its path)."""
    team = session.scalar(sa.select(Hub).where(Hub.type == HubType.team).order_by(Hub.id).limit(1))
    owner = session.scalar(
        sa.select(User.username).join(Membership)
        .where(Membership.hub_id == team.id, Membership.role == Role.owner).limit(1)
    )  # fmt: skip
    member = session.scalar(
        sa.select(User.username).join(Membership)
        .where(Membership.hub_id == team.id, Membership.role == Role.member).limit(1)
    )  # fmt: skip
    widgets = session.scalars(sa.select(Widget).where(Widget.hub_id == team.id)).all()
    mine = session.scalar(sa.select(Hub).where(Hub.type == HubType.user, Hub.name == owner))
    t, u = team.url_path, mine.url_path
    pages = {
        "home, visitor": (None, "/"),
        "directory": (None, "/hubs/"),
        "directory, nothing found": (None, "/hubs/?q=no-such-hub-anywhere"),
        "team hub, visitor": (None, t),
        "user hub, visitor": (None, u),
        "not found": (None, "/t/no-such-hub/"),
        "bad request": (None, "/hubs/?page=zero"),
        "refused": (member, f"{t}edit/settings"),
        "home, owner": (owner, "/"),
        "team hub, owner": (owner, t),
        "team hub, edit mode": (owner, f"{t}?edit=1"),
        "settings": (owner, f"{t}edit/settings"),
        "members": (owner, f"{t}edit/members"),
        "remove a member": (owner, f"{t}edit/members/{member}/remove"),
        "new widget": (owner, f"{t}edit/widgets/new"),
        "history": (owner, f"{t}history/"),
        "import": (owner, f"{t}edit/import"),
        "my hub": (owner, u),
        "my stream": (owner, f"{u}stream"),
        "saved": (owner, f"{u}saved"),
        "account": (owner, f"{u}account"),
        "log out": (owner, "/logout"),
    }
    for widget in widgets:
        pages[f"configure {widget.plugin}"] = (owner, f"{t}w/{widget.id}/edit")
        if widget.plugin == "halp":
            pages["calls for help"] = (None, f"{t}w/{widget.id}/halp")
    pages["remove a widget"] = (owner, f"{t}w/{widgets[0].id}/remove")
    return pages


def _people_words(session, config) -> str:
    """Every text the site holds that people (or other services) wrote: the rows of the
    database, the services' recordings, the sentences fedmsg.meta makes of messages."""
    found: list[str] = [config["SITE_NAME"]]
    for table in Base.metadata.sorted_tables:
        for row in session.execute(sa.select(table)):
            _walk(list(row), found)
    for message in session.scalars(sa.select(Message)):
        _walk(entry(message), found)
    for path in (ROOT / "hubs" / "demo" / "services").glob("*.json"):
        _walk(json.loads(path.read_text()), found)
    return "\n".join(" ".join(text.split()) for text in found)


def _walk(value, found: list[str]) -> None:
    if isinstance(value, str):
        found.append(value)
        if value[:1] in "{[":
            with contextlib.suppress(ValueError):
                _walk(json.loads(value), found)
    elif isinstance(value, dict):
        for key, item in value.items():
            _walk(key, found)
            _walk(item, found)
    elif isinstance(value, list | tuple):
        for item in value:
            _walk(item, found)


class _Texts(HTMLParser):
    """What a page says to people: its text and read attributes, and the strings the
    page hands its scripts; not the text of <time> (Babel's) or of a <textarea> (what
    someone typed), nor scripts' code, nor text
    in a language of its own (``lang=``: a language's name in that language)."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.lang = ""
        self._skip: list[str] = []
        self._json = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "html":
            self.lang = attributes.get("lang", "")
        for name in READ_ATTRIBUTES if tag != "time" else ():  # a <time>'s title: Babel's
            if attributes.get(name):
                self.texts.append(attributes[name])
        if tag == "input" and attributes.get("type") in ("submit", "button"):
            self.texts.append(attributes.get("value") or "")
        if tag != "html" and "lang" in attributes:  # a language's name in itself
            self._skip.append(tag)
        elif tag in ("script", "style", "time", "textarea"):
            self._skip.append(tag)
            self._json = tag == "script" and attributes.get("type") == "application/json"

    def handle_endtag(self, tag):
        if self._skip and self._skip[-1] == tag:
            self._skip.pop()
            self._json = False

    def handle_data(self, data):
        if self._json:
            self.texts.extend(json.loads(data).values())
        elif not self._skip and data.strip():
            self.texts.append(data)


def page_texts(html: str) -> tuple[str, list[str]]:
    parser = _Texts()
    parser.feed(html)
    return parser.lang, [" ".join(text.split()) for text in parser.texts if text.strip()]


INNERMOST_MARK = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")
LETTERS = re.compile(r"[^\W\d_]{2,}")


SEPARATORS = re.compile(r" [—·|] |, ")


def unmarked(texts: list[str], corpus: str) -> list[str]:
    """The pieces of a page's ``texts`` outside any mark that hold words and are nobody's
    words. A mark may span several texts (a msgid holding tags); pieces joined by a
    separator, such as "design — Fedora Hubs", are looked at alone."""
    joined = "\1".join(texts)
    while INNERMOST_MARK.search(joined):
        joined = INNERMOST_MARK.sub("\0", joined)
    pieces = [p for part in re.split("[\0\1]", joined) for p in SEPARATORS.split(part)]
    pieces = [piece.strip(" \t\n·—:;,.()|/«»\"'#@!?") for piece in pieces]
    return [piece for piece in pieces if LETTERS.search(piece) and piece not in corpus]


def _read(app, who: str | None, path: str, language: str) -> str:
    with app.test_client() as client:
        log_in(client, who)
        response = client.get(path, headers={"Accept-Language": language})
    assert response.status_code in (200, 400, 403, 404), (path, response.status_code)
    assert response.mimetype == "text/html"
    return response.text


def test_the_check_finds_a_string_nobody_marked():
    """The check below can fail: English chrome outside marks is found, marked text and
    people's words are not."""
    corpus = "Ralph Bean\nthe design team"
    assert unmarked(["⟦Members⟧ Ralph Bean"], corpus) == []
    assert unmarked(["⟦%s has ⟦3⟧ badges⟧"], corpus) == []
    assert unmarked(["⟦Paste its ", "…/export", " document⟧", "the design team"], corpus) == []
    assert unmarked(["⟦Members⟧", "Log in"], corpus) == ["Log in"]
    assert unmarked(["⟦Edit⟧ this hub"], corpus) == ["this hub"]
    assert unmarked(["design — Fedora Hubs"], corpus + "\ndesign\nFedora Hubs") == []


def test_every_text_of_every_page_is_marked_for_translation(site):
    app, pages, corpus = site
    found = {}
    for name, (who, path) in pages.items():
        lang, texts = page_texts(_read(app, who, path, PSEUDO))
        assert lang == PSEUDO, name
        left = sorted(set(unmarked(texts, corpus)))
        if left:
            found[name] = left
    if found:
        pytest.fail("Not marked for translation (hubs.i18n: _, ngettext, {% trans %}):\n"
                    + _listed(found))  # fmt: skip


def test_a_french_reader_finds_no_english_left(site):
    app, pages, corpus = site
    french = {m.string for m in _catalog(FRENCH)
              if m.id and m.string == m.id}  # fmt: skip
    allowed = SAME_IN_FRENCH | french
    found = {}
    for name, (who, path) in pages.items():
        lang, in_french = page_texts(_read(app, who, path, "fr"))
        assert lang == "fr", name
        _lang, in_english = page_texts(_read(app, who, path, "en"))
        same = set(in_french) & set(in_english)
        left = sorted(text for text in same if text not in allowed and unmarked([text], corpus))
        if left:
            found[name] = left
    if found:
        pytest.fail("English on a French page (the exceptions: SAME_IN_FRENCH):\n" + _listed(found))


def _listed(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{page}: {texts}" for page, texts in sorted(found.items()))


def test_the_pages_checked_are_every_kind_of_page(site):
    """A new page route must join the pages read above."""
    app, pages, _corpus = site
    routes = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    read = set()
    with app.test_request_context():
        adapter = app.url_map.bind("localhost")
        for _who, path in pages.values():
            try:
                endpoint, _args = adapter.match(path.split("?")[0])
            except Exception:  # a page that does not exist: the 404 page
                continue
            read.add(endpoint)
    # Not pages: data, files, and the identity provider's round trip.
    not_pages = {"static", "bootstrap.static", "avatars.avatar", "health.live", "health.ready",
                 "hubs.hub_json", "hubs.widget_json", "revisions.export", "auth.login",
                 "oidc_auth.authorize", "oidc_auth.login", "oidc_auth.logout",
                 "legacy_oidc_callback", "stream.notifications", "stream.stream_entry",
                 "stream.stream_older", "hubs.feed_more", "hubs.widget_html"}  # fmt: skip
    assert routes - not_pages - read == set()
