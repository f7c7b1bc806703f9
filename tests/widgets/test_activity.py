"""The activity widget: last active from real data, archived notice, cobwebs."""

import datetime as dt

from hubs.backend.store import store_message
from hubs.bus import message_people_and_packages
from hubs.models import utcnow
from hubs.rendering import render_panel
from hubs.widgets import registry
from tests import factories
from tests.html import with_role


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
    assert data["ago"] == "3 hours ago" and data["idle"] is False and data["archived"] is False
    assert with_role(draw(widget, data), "last-active")


def test_cobwebs_when_idle_and_archived_notice(app_context, session, ralph_hub, corpus):
    widget = factories.widget(session, ralph_hub, "activity", idle_days=30)
    store_ralph_message(session, corpus, utcnow() - dt.timedelta(days=45))
    data = registry["activity"].compute(session, widget)
    assert data["idle"] is True and data["ago"] == "1 month ago"
    assert with_role(draw(widget, data), "cobwebs")
    ralph_hub.archived = True
    data = registry["activity"].compute(session, widget)
    assert with_role(draw(widget, data), "archived")


def test_a_hub_never_active_shows_cobwebs(app_context, session):
    hub = factories.hub(session, "quiet")
    data = registry["activity"].compute(session, factories.widget(session, hub, "activity"))
    assert data == {"last": None, "ago": None, "archived": False, "idle": True, "idle_days": 60}


def test_reacts_to_its_people_and_its_settings(app_context, session, ralph_hub, corpus):
    widget = factories.widget(session, ralph_hub, "activity")
    check = registry["activity"].should_invalidate
    concerning = [e["msg"] for e in corpus if "ralph" in message_people_and_packages(e["msg"])[0]]
    others = [e["msg"] for e in corpus if "ralph" not in message_people_and_packages(e["msg"])[0]]
    assert all(check(m, session, widget) for m in concerning)
    assert not any(check(m, session, widget) for m in others)
    archived = factories.hubs_message("hubs.hub.updated", hub_id=ralph_hub.id, agent="ralph")
    assert check(archived, session, widget) is True
