"""Every change to a hub is one revision with its sentence and the state after it;
restores, imports and "Restore defaults" bring whole layouts back as one revision
each, announced as the single changes are (so pages and the backend follow)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubs import changes, revisions
from hubs.default_widgets import default_layout
from hubs.messages import layout_changed
from hubs.models import Column, HubRevision, HubType, Role, Widget
from hubs.widgets.base import InvalidConfig
from tests import factories


@pytest.fixture
def people(session):
    return {name: factories.user(session, name) for name in ("nirik", "ralph", "mizmo")}


@pytest.fixture
def team(app_context, session, people):
    hub = changes.create_hub(session, "infrastructure", HubType.team, "nirik", people["nirik"])
    return hub


def history(session, hub) -> list[HubRevision]:
    session.expire_all()
    return list(
        session.scalars(
            sa.select(HubRevision).where(HubRevision.hub_id == hub.id).order_by(HubRevision.id)
        )
    )


def widget_of(session, hub, plugin: str) -> Widget:
    return session.scalars(
        sa.select(Widget).where(Widget.hub_id == hub.id, Widget.plugin == plugin)
    ).first()


def look(session, hub) -> dict:
    return revisions.look_of(changes.hub_state(session, hub))


def test_a_new_hub_starts_its_history(session, team):
    [first] = history(session, team)
    assert (first.agent, first.kind, first.sentence) == (
        "nirik",
        "hub.created",
        "nirik created the hub",
    )
    assert first.state == changes.hub_state(session, team)
    assert [w["plugin"] for w in first.state["widgets"]] == [
        plugin for plugin, column, _config in sorted(
            default_layout(HubType.team), key=lambda item: item[1].value
        )
    ]  # fmt: skip


# Each kind of change: what it does to the infrastructure hub, and its sentence.
def _settings(session, hub, people):
    changes.update_hub(session, hub, {"summary": "Keeps the lights on"}, agent="nirik")


def _add(session, hub, people):
    changes.create_widget(session, hub, "library", {}, "nirik", column=Column.right)


def _configure(session, hub, people):
    sticky = widget_of(session, hub, "sticky")
    changes.update_widget_config(session, sticky, {"text": "one\ntwo"}, agent="nirik")
    changes.update_widget_config(session, sticky, {"text": "one\nthree\nfour"}, agent="mizmo")


def _move(session, hub, people):
    changes.move_widget(session, widget_of(session, hub, "meetings"), Column.left, 0, "nirik")


def _move_up(session, hub, people):
    changes.move_widget(session, widget_of(session, hub, "feed"), Column.left, 0, "nirik")


def _remove(session, hub, people):
    changes.delete_widget(session, widget_of(session, hub, "meetings"), agent="nirik")


def _add_member(session, hub, people):
    changes.set_role(session, hub, people["ralph"], Role.member, agent="nirik")


def _promote(session, hub, people):
    changes.set_role(session, hub, people["ralph"], Role.member, agent="nirik")
    changes.set_role(session, hub, people["ralph"], Role.owner, agent="nirik")


def _remove_member(session, hub, people):
    changes.set_role(session, hub, people["ralph"], Role.member, agent="nirik")
    changes.remove_role(session, hub, people["ralph"], Role.member, agent="nirik")


def _subscribe(session, hub, people):
    changes.set_role(session, hub, people["mizmo"], Role.subscriber, agent="mizmo")


def _unstar(session, hub, people):
    changes.set_role(session, hub, people["mizmo"], Role.stargazer, agent="mizmo")
    changes.remove_role(session, hub, people["mizmo"], Role.stargazer, agent="mizmo")


def _restore(session, hub, people):
    changes.delete_widget(session, widget_of(session, hub, "meetings"), agent="nirik")
    first = history(session, hub)[0]
    changes.restore_revision(session, hub, first, agent="nirik")


def _import(session, hub, people):
    document = {
        "schema": revisions.SCHEMA, "version": 1, "left_width": 7,
        "columns": {"left": [{"plugin": "sticky", "config": {"text": "Hi"}}],
                    "right": [{"plugin": "stats", "config": {}}]},
    }  # fmt: skip
    layout = revisions.read_layout(document, "team", 40)
    changes.import_layout(session, hub, layout, agent="nirik")


def _defaults(session, hub, people):
    changes.delete_widget(session, widget_of(session, hub, "meetings"), agent="nirik")
    changes.restore_defaults(session, hub, agent="nirik")


CHANGES = {
    "settings": (_settings, 1, "hub.updated", "nirik changed the settings: summary"),
    "add widget": (_add, 1, "widget.created", "nirik added Library to the right column"),
    "configure": (
        _configure, 2, "widget.updated",
        "mizmo changed the Sticky note widget: +2 lines \N{MINUS SIGN}1",
    ),
    "move": (_move, 1, "widget.updated", "nirik moved Meetings to the left column"),
    "move up": (_move_up, 1, "widget.updated", "nirik moved Activity feed up in the left column"),
    "remove widget": (_remove, 1, "widget.deleted", "nirik removed Meetings from the right column"),
    "add member": (_add_member, 1, "user.role.added", "nirik made ralph member"),
    "change role": (
        _promote, 2, "user.role.changed", "nirik changed ralph's role from member to owner",
    ),
    "remove member": (_remove_member, 2, "user.role.removed", "nirik removed ralph (member)"),
    "subscribe": (_subscribe, 1, "user.role.added", "mizmo subscribed"),
    "unstar": (_unstar, 2, "user.role.removed", "mizmo unstarred the hub"),
    "restore": (_restore, 2, "hub.restored", None),
    "import": (_import, 1, "hub.imported", "nirik imported a layout of 2 widgets"),
    "restore defaults": (_defaults, 2, "hub.defaults", "nirik restored the default widgets"),
}  # fmt: skip


@pytest.mark.parametrize("change", CHANGES)
def test_each_change_is_one_revision_with_its_sentence(session, team, people, change):
    make, count, kind, sentence = CHANGES[change]
    before = len(history(session, team))
    make(session, team, people)
    revisions_now = history(session, team)
    assert len(revisions_now) == before + count
    last = revisions_now[-1]
    assert last.kind == kind
    if sentence is None:  # a restore names the revision it brought back
        first = revisions_now[0]
        sentence = f"nirik restored revision {first.id} ({first.sentence})"
    assert last.sentence == sentence
    assert last.state == changes.hub_state(session, team)


def test_refused_and_empty_changes_make_no_revision(session, team, people):
    before = len(history(session, team))
    sticky = widget_of(session, team, "sticky")
    with pytest.raises(InvalidConfig):
        changes.update_widget_config(session, sticky, {"text": 5}, agent="nirik")
    session.rollback()
    assert changes.update_widget_config(session, sticky, sticky.config, agent="nirik") == []
    assert changes.update_hub(session, team, {}, agent="nirik") == []
    assert not changes.move_widget(session, widget_of(session, team, "about"), Column.left, 0, "x")
    first = history(session, team)[0]
    assert not changes.restore_revision(session, team, first, agent="nirik")  # it looks so
    assert not changes.restore_defaults(session, team, agent="nirik")
    assert len(history(session, team)) == before


def test_retention_keeps_the_newest_and_the_first(app, session, team):
    app.config["HISTORY_KEEP"] = 3
    sticky = widget_of(session, team, "sticky")
    for number in range(6):
        changes.update_widget_config(session, sticky, {"text": f"v{number}"}, agent="nirik")
    kept = history(session, team)
    assert [r.sentence for r in kept] == [
        "nirik created the hub",
        *["nirik changed the Sticky note widget: +1 line \N{MINUS SIGN}1"] * 3,
    ]
    assert [r.state["widgets"] for r in kept][-1] == changes.hub_state(session, team)["widgets"]
    texts = [next(w for w in r.state["widgets"] if w["plugin"] == "sticky") for r in kept[1:]]
    assert [w["config"]["text"] for w in texts] == ["v3", "v4", "v5"]


def test_restore_undo_and_restore_again_are_each_equal(session, team, people):
    meetings = widget_of(session, team, "meetings")
    changes.update_widget_config(session, meetings, {"calendar": "infra"}, agent="nirik")
    changes.move_widget(session, meetings, Column.left, 1, "nirik")
    rules = widget_of(session, team, "rules")
    # A title of its own, then gone with its widget: a restore brings both back.
    changes.update_widget_config(session, rules, changes.UNCHANGED, "nirik", "House rules")
    changes.delete_widget(session, rules, agent="nirik")
    changes.create_widget(session, team, "library", {}, "ralph", column=Column.right)
    changes.update_widget_config(session, meetings, changes.UNCHANGED, "nirik", "Our calls")
    changes.update_hub(session, team, {"left_width": 6, "summary": "Infra"}, agent="nirik")
    states = history(session, team)
    titled = [w.get("title") for r in states for w in r.state["widgets"]]
    assert "House rules" in titled and "Our calls" in titled
    latest = states[-1]
    for revision in states:
        changes.restore_revision(session, team, revision, agent="nirik")
        assert look(session, team) == revisions.look_of(revision.state)
        restore = history(session, team)[-1]
        undo = history(session, team)[-2]  # what the hub was before the restore
        changes.restore_revision(session, team, undo, agent="nirik")
        assert look(session, team) == revisions.look_of(undo.state)
        changes.restore_revision(session, team, restore, agent="nirik")
        assert look(session, team) == revisions.look_of(revision.state)
        changes.restore_revision(session, team, latest, agent="nirik")
        assert look(session, team) == revisions.look_of(latest.state)


def test_a_restore_announces_each_widget_change_and_pushes_the_layout(
    session, team, people, published
):
    rules = widget_of(session, team, "rules")
    rules_id = rules.id
    before = history(session, team)[-1]
    changes.delete_widget(session, rules, agent="nirik")
    changes.move_widget(session, widget_of(session, team, "meetings"), Column.left, 0, "nirik")
    sticky = widget_of(session, team, "sticky")
    changes.update_widget_config(session, sticky, {"text": "Changed"}, agent="nirik")
    del published[:]
    changes.restore_revision(session, team, before, agent="puiterwijk")
    topics = [topic for topic, _fields in published]
    assert topics.count("widget.created") == 1 and "widget.deleted" not in topics
    assert set(topics) == {"widget.created", "widget.updated"}
    by_widget = {fields["widget_id"]: (topic, fields) for topic, fields in published}
    assert by_widget[sticky.id][1]["changed_keys"] == ["text", "position"]  # meetings left
    meetings = widget_of(session, team, "meetings")
    assert set(by_widget[meetings.id][1]["changed_keys"]) == {"column", "position"}
    new_rules = widget_of(session, team, "rules")
    assert new_rules.id != rules_id and by_widget[new_rules.id][0] == "widget.created"
    assert all(fields["agent"] == "puiterwijk" for _topic, fields in published)
    messages = [factories.hubs_message(f"hubs.{topic}", **fields) for topic, fields in published]
    assert {layout_changed(message) for message in messages} >= {"/t/infrastructure/"}


def test_restore_keeps_the_ids_of_widgets_still_there(session, team):
    ids = {w.plugin: w.id for w in team.widgets}
    first = history(session, team)[0]
    changes.update_widget_config(session, widget_of(session, team, "sticky"), {"text": "x"}, "n")
    changes.restore_revision(session, team, first, agent="nirik")
    session.expire_all()
    assert {w.plugin: w.id for w in widget_of(session, team, "about").hub.widgets} == ids


def test_restore_defaults_is_one_revision_and_keeps_settings(session, team):
    changes.update_hub(session, team, {"summary": "Kept"}, agent="nirik")
    sticky = widget_of(session, team, "sticky")
    changes.update_widget_config(session, sticky, {"text": "Ours"}, agent="nirik")
    changes.delete_widget(session, widget_of(session, team, "halp"), agent="nirik")
    changes.create_widget(session, team, "library", {}, "nirik")
    before = len(history(session, team))
    assert changes.restore_defaults(session, team, agent="nirik")
    assert len(history(session, team)) == before + 1
    assert look(session, team) == revisions.look_of(history(session, team)[0].state) | {
        "settings": {**history(session, team)[0].state["settings"], "summary": "Kept"}
    }


def test_a_team_starts_like_another(session, team, people):
    changes.create_widget(session, team, "library", {}, "nirik", column=Column.right)
    changes.update_hub(session, team, {"left_width": 7}, agent="nirik")
    websites = changes.create_hub(
        session, "websites", HubType.team, "ralph", people["ralph"], like=team
    )
    assert revisions.columns_of(changes.hub_state(session, websites)) == revisions.columns_of(
        changes.hub_state(session, team)
    )
    assert websites.left_width == 7
    [first] = history(session, websites)
    assert first.sentence == "ralph created the hub like t/infrastructure"


def test_a_user_hub_like_a_team_takes_only_what_fits(session, team, people):
    ralph_hub = changes.create_hub(session, "ralph", HubType.user, "ralph", like=team)
    plugins = [w["plugin"] for w in changes.hub_state(session, ralph_hub)["widgets"]]
    assert plugins and "badges" not in plugins
    team_hub = changes.create_hub(session, "qa", HubType.team, "ralph", like=ralph_hub)
    assert all(w.plugin != "badges" for w in team_hub.widgets)


def test_a_revision_whose_widget_no_longer_fits_is_refused_whole(session, team):
    first = history(session, team)[0]
    first.state = {
        **first.state,
        "widgets": [*first.state["widgets"],
                    {"id": 0, "plugin": "gone", "column": "left", "position": 9, "config": {}}],
    }  # fmt: skip
    session.flush()
    before = look(session, team)
    changes.delete_widget(session, widget_of(session, team, "rules"), agent="nirik")
    moved = look(session, team)
    with pytest.raises(InvalidConfig) as refused:
        changes.restore_revision(session, team, first, agent="nirik")
    session.rollback()
    assert "no widget named 'gone'" in str(refused.value)
    assert look(session, team) == moved != before


# -- random sequences of changes, then restores --------------------------------------------

OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["add", "configure", "move", "remove", "settings", "restore"]),
        st.integers(min_value=0, max_value=50),
        st.sampled_from(list(Column)),
        st.text(alphabet="ab\n", max_size=8),
    ),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=OPERATIONS)
def test_any_revision_restores_to_its_own_state(session, team, operations):
    try:
        for name, number, column, text in operations:
            widgets = sorted(team.widgets, key=lambda w: w.id)
            some = widgets[number % len(widgets)] if widgets else None
            if name == "add" or some is None:
                changes.create_widget(session, team, "sticky", {"text": text}, "n", column=column)
            elif name == "configure" and some.plugin == "sticky":
                changes.update_widget_config(session, some, {"text": text}, agent="n")
            elif name == "move":
                changes.move_widget(session, some, column, number % 5, agent="n")
            elif name == "remove":
                changes.delete_widget(session, some, agent="n")
            elif name == "settings":
                changes.update_hub(session, team, {"left_width": 1 + number % 11}, agent="n")
            elif name == "restore":
                kept = history(session, team)
                changes.restore_revision(session, team, kept[number % len(kept)], agent="n")
            session.expire_all()
            assert revisions.look_of(history(session, team)[-1].state) == look(session, team)
        for revision in history(session, team):
            changes.restore_revision(session, team, revision, agent="n")
            assert look(session, team) == revisions.look_of(revision.state)
    finally:  # each example starts from the new hub again
        changes.restore_revision(session, team, history(session, team)[0], agent="n")


def test_a_hub_without_history_begins_it_before_its_first_change(app_context, session):
    hub = factories.hub(session, "design")  # as made before revisions were kept
    factories.widget(session, hub, "sticky", text="Before")
    session.commit()
    sticky = widget_of(session, hub, "sticky")
    changes.update_widget_config(session, sticky, {"text": "After"}, agent="nirik")
    baseline, change = history(session, hub)
    assert (baseline.kind, baseline.agent, baseline.sentence) == (
        "hub.baseline", "fedora-hubs", "The hub as it was when its history began",
    )  # fmt: skip
    assert change.kind == "widget.updated"
    assert [w["config"] for w in baseline.state["widgets"]] == [{"text": "Before"}]
    changes.restore_revision(session, hub, baseline, agent="nirik")
    assert widget_of(session, hub, "sticky").config == {"text": "Before"}
    assert len(history(session, hub)) == 3


def test_a_revision_keeps_its_event_to_be_told_again(session, team):
    changes.create_widget(session, team, "library", {}, "nirik", column=Column.right)
    last = history(session, team)[-1]
    assert last.event == {"said": "added", "agent": "nirik", "plugin": "library", "column": "right"}
    assert revisions.revision_sentence(last) == last.sentence
    assert last.sentence == "nirik added Library to the right column"


def test_a_revision_kept_before_events_shows_its_stored_sentence(session, team):
    [first] = history(session, team)
    first.event = None
    assert revisions.revision_sentence(first) == "nirik created the hub"
