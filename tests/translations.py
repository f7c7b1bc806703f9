"""A small French catalog for tests of text told in the reader's language (the real
catalogs are extracted after merging, so tests bring their own)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

from hubs.i18n import babel

FRENCH = {
    "%(agent)s added %(widget)s to the %(hub)s team hub": (
        "%(agent)s a ajouté %(widget)s au hub d'équipe %(hub)s"
    ),
    "%(agent)s made %(username)s %(role)s of the %(hub)s team hub": (
        "%(agent)s a fait de %(username)s un %(role)s du hub d'équipe %(hub)s"
    ),
    "member": "membre",
    (
        "%(agent)s changed %(num)d widget of the %(hub)s team hub",
        "%(agent)s changed %(num)d widgets of the %(hub)s team hub",
    ): (
        "%(agent)s a modifié %(num)d widget du hub d'équipe %(hub)s",
        "%(agent)s a modifié %(num)d de widgets du hub d'équipe %(hub)s",
        "%(agent)s a modifié %(num)d widgets du hub d'équipe %(hub)s",
    ),
    "%(agent)s created the hub": "%(agent)s a créé le hub",
    "%(agent)s made %(username)s %(role)s": "%(agent)s a fait de %(username)s un %(role)s",
    "%(agent)s changed the %(widget)s widget: %(changes)s": (
        "%(agent)s a modifié le widget %(widget)s : %(changes)s"
    ),
    (
        "+%(num)d line \N{MINUS SIGN}%(removed)d",
        "+%(num)d lines \N{MINUS SIGN}%(removed)d",
    ): (
        "+%(num)d ligne \N{MINUS SIGN}%(removed)d",
        "+%(num)d de lignes \N{MINUS SIGN}%(removed)d",
        "+%(num)d lignes \N{MINUS SIGN}%(removed)d",
    ),
}


def write_french(directory: Path) -> str:
    """``directory`` holding fr/LC_MESSAGES/messages.mo made of FRENCH (a plural in
    French's three forms: one, many as in millions, other); returns its path."""
    catalog = Catalog(locale="fr")
    for msgid, string in FRENCH.items():
        catalog.add(msgid, string)
    where = directory / "fr" / "LC_MESSAGES"
    where.mkdir(parents=True, exist_ok=True)
    with open(where / "messages.mo", "wb") as mo:
        write_mo(mo, catalog)
    return str(directory)


def forget_loaded_catalogs() -> None:
    """Flask-Babel keeps the catalogs it loaded for the process, whichever app loaded
    them (in its domain, made once): a test's own must not be what the next app reads."""
    babel.__dict__.pop("domain_instance", None)


@contextmanager
def french_catalog(directory: Path) -> Iterator[str]:
    """A directory of catalogs holding FRENCH, for BABEL_TRANSLATION_DIRECTORIES, read
    only while the block runs."""
    forget_loaded_catalogs()
    try:
        yield write_french(directory)
    finally:
        forget_loaded_catalogs()
