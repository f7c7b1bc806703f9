"""The activity widget: last active from real data, archived notice, cobwebs."""

import datetime as dt

import pytest

from hubs.backend.store import store_message
from hubs.bus import message_people_and_packages
from hubs.i18n import JUST_NOW, ago_changes_at, force_locale, format_ago
from hubs.models import utcnow
from hubs.rendering import render_panel
from hubs.widgets import registry
from tests import factories
from tests.html import role_texts, with_role


def store_ralph_message(session, corpus, when):
    entry = next(e for e in corpus if "ralph" in message_people_and_packages(e["msg"])[0])
    message = {**entry["msg"], "msg_id": f"at-{when.timestamp()}", "timestamp": when.timestamp()}
    usernames, packages = message_people_and_packages(message)
    store_message(session, message, usernames, packages)
    session.flush()


def draw(widget, data):
    return render_panel(widget, registry["activity"], {"ok": True, "data": data})


def test_last_active_comes_from_the_message_store(app_context, session, ralph_hub, corpus):
    widget = factories.widget(session, ralph_hub, "activity", idle_days=30)
    store_ralph_message(session, corpus, utcnow() - dt.timedelta(days=40))
    store_ralph_message(session, corpus, utcnow() - dt.timedelta(hours=3))
    data = registry["activity"].compute(session, widget)
    assert data["idle"] is False and data["archived"] is False
    assert role_texts(draw(widget, data), "last-active") == ["Last active 3 hours ago."]


def test_its_data_is_drawn_in_each_reader_s_language(app_context, session, ralph_hub, corpus):
    """Panels in other languages are drawn from the same cached data: it holds a time,
    not English words."""
    widget = factories.widget(session, ralph_hub, "activity", idle_days=30)
    store_ralph_message(session, corpus, utcnow() - dt.timedelta(hours=3))
    data = registry["activity"].compute(session, widget)
    with force_locale("fr"):
        [said] = role_texts(draw(widget, data), "last-active")
    assert "il y a 3 heures" in said and "ago" not in said


def test_cobwebs_when_idle_and_archived_notice(app_context, session, ralph_hub, corpus):
    widget = factories.widget(session, ralph_hub, "activity", idle_days=30)
    store_ralph_message(session, corpus, utcnow() - dt.timedelta(days=40))
    data = registry["activity"].compute(session, widget)
    assert data["idle"] is True
    assert role_texts(draw(widget, data), "cobwebs") == [
        "🕸 No activity since 1 month ago — this hub is gathering cobwebs (idle for over 30 days)."
    ]
    ralph_hub.archived = True
    data = registry["activity"].compute(session, widget)
    assert with_role(draw(widget, data), "archived")


def test_a_hub_never_active_shows_cobwebs(app_context, session):
    hub = factories.hub(session, "quiet")
    widget = factories.widget(session, hub, "activity")
    data = registry["activity"].compute(session, widget)
    assert data == {"last": None, "archived": False, "idle": True, "idle_days": 60}
    assert role_texts(draw(widget, data), "cobwebs") == [
        "🕸 No activity yet — this hub is gathering cobwebs (idle for over 60 days)."
    ]


def test_reacts_to_its_people_and_its_settings(app_context, session, ralph_hub, corpus):
    widget = factories.widget(session, ralph_hub, "activity")
    check = registry["activity"].should_invalidate
    concerning = [e["msg"] for e in corpus if "ralph" in message_people_and_packages(e["msg"])[0]]
    others = [e["msg"] for e in corpus if "ralph" not in message_people_and_packages(e["msg"])[0]]
    assert all(check(m, session, widget) for m in concerning)
    assert not any(check(m, session, widget) for m in others)
    archived = factories.hubs_message("hubs.hub.updated", hub_id=ralph_hub.id, agent="ralph")
    assert check(archived, session, widget) is True


def test_its_cached_ago_is_computed_again_when_it_would_read_otherwise(
    app_context, session, ralph_hub, corpus
):
    """Defect 9: the panel is cached with its text, so "just now" stayed for days."""
    widget = factories.widget(session, ralph_hub, "activity", idle_days=30)
    last = utcnow() - dt.timedelta(days=5, hours=1)
    store_ralph_message(session, corpus, last)
    answer = registry["activity"].call_data(session, widget)
    assert role_texts(draw(widget, answer.data), "last-active") == ["Last active 5 days ago."]
    # Good until it turns "6 days ago" (at 5.5 days: the count is rounded), no longer.
    turns = last + dt.timedelta(days=5, hours=12, seconds=1)
    assert answer.fresh_until == pytest.approx(turns.timestamp(), abs=1)


def test_a_new_message_is_just_now_until_it_is_a_minute_ago(
    app_context, session, ralph_hub, corpus
):
    widget = factories.widget(session, ralph_hub, "activity", idle_days=30)
    last = utcnow() - dt.timedelta(seconds=10)
    store_ralph_message(session, corpus, last)
    answer = registry["activity"].call_data(session, widget)
    assert role_texts(draw(widget, answer.data), "last-active") == ["Last active just now."]
    turns = last + dt.timedelta(seconds=JUST_NOW)  # "1 minute ago"
    assert answer.fresh_until == pytest.approx(turns.timestamp(), abs=1)


def test_ago_changes_at_the_moment_its_words_change_in_every_language(app_context):
    now = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)
    ages = [dt.timedelta(seconds=s) for s in (0, 30, 53, 54, 95, 155, 3000, 3300)] + [
        dt.timedelta(days=d, hours=h) for d in (0, 1, 5, 6, 13, 27, 29, 200, 400) for h in (0, 11)
    ]
    for language in ("en", "fr"):
        with force_locale(language):
            for age in ages:
                when = now - age
                changes = ago_changes_at(when, now)
                said = format_ago(when, now)
                assert changes > now
                halfway, just_before = (
                    now + (changes - now) / 2,
                    changes - dt.timedelta(seconds=1.5),
                )
                for moment in (halfway, max(now, just_before)):
                    assert format_ago(when, moment) == said, (language, age, moment)
                assert format_ago(when, changes) != said, (language, age)
    with force_locale("en"):
        assert format_ago(now - dt.timedelta(days=6, hours=23), now) == "1 week ago"
        assert format_ago(now - dt.timedelta(seconds=50), now) == "just now"


def test_ago_in_words_of_the_readers_language(app_context):
    now = utcnow()
    with force_locale("en"):
        assert format_ago(now, now) == "just now"
        assert format_ago(now - dt.timedelta(minutes=5), now) == "5 minutes ago"
        assert format_ago(now - dt.timedelta(hours=1), now) == "1 hour ago"
        assert format_ago(now - dt.timedelta(days=15), now) == "2 weeks ago"
    with force_locale("fr"):
        assert format_ago(now, now) == "à l’instant"
        assert format_ago(now - dt.timedelta(days=15), now) == "il y a 2 semaines"
