"""A small French catalog for tests of text told in the reader's language (the real
catalogs are extracted after merging, so tests bring their own)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

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
