"""The hint index over the real corpus: it offers every widget whose check says True
(compared with the brute force of asking every widget) and few others."""

import json
import types

import pytest
import sqlalchemy as sa

from hubs.backend.hints import HintIndex
from hubs.bus import message_people_and_packages
from hubs.default_widgets import default_widgets
from hubs.models import HubType, Role, Widget
from hubs.widgets import registry, validators
from hubs.widgets.base import ANY, Argument, WidgetType, hints
from tests import factories


def package_watch_module() -> types.ModuleType:
    """A widget following packages named in its config (like bugzilla or updates)."""
    module = types.ModuleType("tests.widgets.package_watch")
    module.TITLE, module.DESCRIPTION, module.template = "Packages", "For tests.", "sticky.html"
    module.ARGUMENTS = [
        Argument("packages", [], validators.link_list(), help="unused validator, any list")
    ]
    module.data = lambda session, widget, packages: {"html": ""}

    def watched(session, widget):
        return widget.config["packages"]

    @hints(categories=[ANY], packages=watched)
    def should_invalidate(message, session, widget):
        _users, packages = message_people_and_packages(message)
        return bool(packages & set(widget.config["packages"]))

    module.should_invalidate = should_invalidate
    return module


def bodhi_watch_module() -> types.ModuleType:
    """A widget reacting to a whole category, whoever it involves."""
    module = types.ModuleType("tests.widgets.bodhi_watch")
    module.TITLE, module.DESCRIPTION, module.template = "Bodhi", "For tests.", "sticky.html"
    module.ARGUMENTS = []
    module.data = lambda session, widget: {"html": ""}

    @hints(categories=["bodhi"])
    def should_invalidate(message, session, widget):
        return ".bodhi." in message["topic"]

    module.should_invalidate = should_invalidate
    return module


TEST_REGISTRY = {
    **registry,
    "package_watch": WidgetType(package_watch_module()),
    "bodhi_watch": WidgetType(bodhi_watch_module()),
}
USERS = ["ralph", "pingou", "lmacken", "toshio", "jankratochvil", "limburgher", "nirik", "mizmo"]
PACKAGES = [["guake"], ["php-zmq", "fedmsg"], ["valgrind"], ["tzdata", "glibc"], ["nethack"]]


@pytest.fixture
def widgets(session):
    people = {name: factories.user(session, name) for name in USERS}
    for name, user in people.items():
        hub = factories.hub(session, name, HubType.user)
        factories.role(session, hub, user, Role.owner)
        session.add_all(default_widgets(hub))
    for number, members in enumerate([USERS[:3], USERS[2:6], USERS[5:]]):
        team = factories.hub(session, f"team{number}")
        factories.role(session, team, people[members[0]], Role.owner)
        for member in members[1:]:
            factories.role(session, team, people[member], Role.member)
        session.add_all(default_widgets(team))
        for packages in PACKAGES:
            factories.widget(session, team, "package_watch", packages=packages)
        factories.widget(session, team, "bodhi_watch")
        # A calendar of the corpus's fedocal messages, and one of none.
        factories.widget(session, team, "meetings", calendar="awesome" if number else "quiet")
    session.commit()
    return session.scalars(sa.select(Widget)).all()


def test_candidates_cover_every_stale_widget_and_few_others(app_context, session, widgets, corpus):
    index = HintIndex(TEST_REGISTRY)
    assert index.build(session) == len(widgets)
    stale_total = offered_total = 0
    for entry in corpus:
        message = entry["msg"]
        usernames, packages = message_people_and_packages(message)
        offered = index.candidates(message, usernames, packages)
        stale = {
            w.id for w in widgets if TEST_REGISTRY[w.plugin].should_invalidate(message, session, w)
        }
        assert stale <= offered, entry["source"]
        stale_total += len(stale)
        offered_total += len(offered)
    assert stale_total > 100  # the corpus does concern these widgets
    assert offered_total <= 1.1 * stale_total  # few offered for nothing
    assert offered_total < 0.05 * len(widgets) * len(corpus)


def test_hubs_messages_reach_only_their_hub(app_context, session, widgets):
    index = HintIndex(TEST_REGISTRY)
    index.build(session)
    stats = [w for w in widgets if w.plugin == "stats"]
    message = factories.hubs_message("hubs.user.role.added", hub_id=stats[0].hub_id)
    offered = index.candidates(message, {"someone"}, set())
    assert stats[0].id in offered
    assert not {w.id for w in stats[1:]} & offered


def test_index_follows_added_and_removed_widgets(app_context, session, widgets):
    index = HintIndex(TEST_REGISTRY)
    index.build(session)
    watch = next(w for w in widgets if w.plugin == "package_watch")
    message = {"topic": "org.fedoraproject.prod.bodhi.update.comment", "msg": {}}
    assert watch.id in index.candidates(message, set(), set(watch.config["packages"]))
    index.remove(watch.id)
    assert watch.id not in index.candidates(message, set(), set(watch.config["packages"]))
    watch.config = {"packages": ["kernel"]}
    index.add(session, watch)
    assert watch.id in index.candidates(message, set(), {"kernel"})
    assert watch.id not in index.candidates(message, set(), {"guake"})


def test_widgets_of_unknown_plugins_are_not_indexed(app_context, session):
    hub = factories.hub(session)
    factories.widget(session, hub, "gone-plugin")
    index = HintIndex(registry)
    assert index.build(session) == 0


def test_a_calendars_messages_reach_only_the_meetings_of_that_calendar(
    app_context, session, widgets, corpus
):
    index = HintIndex(TEST_REGISTRY)
    index.build(session)
    meetings = {w.id: w for w in widgets if w.plugin == "meetings"}
    awesome = {i for i, w in meetings.items() if w.config.get("calendar") == "awesome"}
    fedocal = [e["msg"] for e in corpus if ".fedocal." in e["msg"]["topic"]]
    assert fedocal and len(awesome) == 2 and len(meetings) > len(awesome)
    for message in fedocal:
        offered = index.candidates(message, *message_people_and_packages(message)) & set(meetings)
        expected = awesome if '"awesome"' in json.dumps(message) else set()
        assert offered == expected, message["msg_id"]


def test_keys_hints_need_both_sides_and_stand_alone():
    with pytest.raises(ValueError, match="both"):
        hints(topics=["fedocal.meeting.new"], keys=lambda s, w: ["a"])
    with pytest.raises(ValueError, match="stand alone"):
        hints(categories=[ANY], usernames=lambda s, w: [], keys=lambda s, w: [],
              message_keys=lambda m: [])  # fmt: skip
