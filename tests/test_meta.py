"""Hubs' own bus messages told in the reader's language: one message, a run of one
person's changes, and the feed entries keeping what tells them (not the sentence, not
its age in words)."""

from __future__ import annotations

import datetime as dt

import pytest

from hubs import entries, meta
from hubs.messages import topic_category
from hubs.models import Message
from tests import factories
from tests.translations import french_catalog

ADDED = "org.fedoraproject.prod.hubs.widget.created"
DESIGN = {"hub_name": "design", "hub_type": "team", "hub_id": 7, "agent": "ralph"}


@pytest.fixture
def app_config(app_config, tmp_path):
    with french_catalog(tmp_path / "translations") as directory:
        yield {
            **app_config,
            "BABEL_TRANSLATION_DIRECTORIES": directory,
            "LANGUAGES": ["en", "fr"],
        }


@pytest.fixture
def french(app):
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        yield


@pytest.fixture
def english(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def test_a_hubs_message_is_told_in_the_readers_language(french):
    body = {**DESIGN, "widget_label": "Badges"}
    assert meta.describe(ADDED, body) == "ralph a ajouté Badges au hub d'équipe design"
    role = {**DESIGN, "username": "bex", "role": "member"}
    assert meta.describe("hubs.user.role.added", role) == (
        "ralph a fait de bex un membre du hub d'équipe design"
    )
    # Other consumers of the bus read it in English, whoever asks.
    assert meta.english_description(ADDED, body) == "ralph added Badges to the design team hub"


def test_a_message_without_a_translation_stays_in_english(french):
    assert meta.describe("hubs.user.created", {"username": "bex"}) == "bex joined Fedora Hubs"


def test_a_run_of_changes_is_told_in_the_readers_language_and_counted_as_it_counts(french):
    changed = {"widget.updated": 9}
    assert meta.describe_edits("nirik", DESIGN, changed, 9) == (
        "nirik a modifié 9 widgets du hub d'équipe design"
    )
    assert meta.describe_edits("nirik", DESIGN, {"widget.updated": 2}, 1) == (
        "nirik a modifié 1 widget du hub d'équipe design (2 changes)"
    )


def test_a_run_of_one_change_says_change(english):
    assert meta.describe_edits("nirik", DESIGN, {"hub.updated": 1, "other": 0}) == (
        "nirik made 1 change to the design team hub: updated its settings"
    )


def stored(bus_message: dict) -> Message:
    return Message(
        id=1,
        msg_id=bus_message["msg_id"],
        topic=bus_message["topic"],
        category=topic_category(bus_message["topic"]),
        timestamp=dt.datetime(2026, 12, 1, 12, 0),
        usernames=["ralph"],
        packages=[],
        body=bus_message,
    )


def test_an_entry_keeps_the_message_fields_and_its_time_not_words(french):
    message = stored(factories.hubs_message("hubs.widget.created", **DESIGN, widget_label="Badges"))
    shown = entries.entry(message)
    assert "ago" not in shown and shown["time"] == "2026-12-01T12:00:00"
    # The stored subtitle is English, for pages not telling it again; the page tells it.
    assert shown["subtitle"] == "ralph added Badges to the design team hub"
    assert entries.sentence(shown) == "ralph a ajouté Badges au hub d'équipe design"


def test_a_run_of_entries_is_told_as_one_in_the_readers_language(french):
    runs = entries.group_edits(
        entries.entry(stored(factories.hubs_message("hubs.widget.updated", **DESIGN, widget_id=n)))
        for n in (1, 2, 3)
    )
    [run] = runs
    assert run["subtitle"] == "ralph changed 3 widgets of the design team hub"
    assert entries.sentence(run) == "ralph a modifié 3 widgets du hub d'équipe design"


def test_other_apps_entries_stay_as_fedmsg_meta_told_them(french):
    shown = {"subtitle": "ralph commented on a bug", "hubs_message": None, "edit": None}
    assert entries.sentence(shown) == "ralph commented on a bug"
