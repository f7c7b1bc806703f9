"""Every change the app makes to hubs, widgets, roles and users, each published on the
bus (the backend refreshes the widgets it concerns), and what still waits for an answer
(``pending``). Views call these; nothing else writes those rows. Permission checks
happen before, in the views (hubs/permissions.py).

Each change to a hub also records a revision of it (``record_revision``) in the same
transaction; ``restore_revision``, ``import_layout`` and ``restore_defaults`` bring a
whole layout back as one more revision, announcing each widget they add, remove,
move or configure as the single changes do, so open pages and the backend follow."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, joinedload

from hubs import backfill, page_cache, revisions
from hubs.bus import publish
from hubs.database import db
from hubs.default_widgets import default_layout, default_widgets
from hubs.i18n import _, _l, ngettext
from hubs.messages import JOIN_TOPICS
from hubs.models import (
    MAX_LEFT_WIDTH,
    MIN_LEFT_WIDTH,
    Column,
    Hub,
    HubRevision,
    HubType,
    Invitation,
    JoinRequest,
    Membership,
    ResolvedHelpRequest,
    Role,
    User,
    Widget,
)
from hubs.people import hub_owners
from hubs.widgets import get_widget_type, validators, widget_label
from hubs.widgets.base import TITLE, Argument, InvalidConfig, validate_arguments

# Who a revision names when nobody made it (the state a hub's history begins with).
SITE_AGENT = "fedora-hubs"

# Owner and member exclude each other; subscriber and stargazer stand beside them.
EXCLUSIVE = (Role.owner, Role.member)


class ChangeRefused(ValueError):
    """A change that would break a rule (the last owner leaving, an unknown widget)."""


def _announce(topic: str, **fields: Any) -> None:
    """Say on the bus what was just committed; the hub's kept pages are rendered anew,
    and those kept for the people whose navbar it changes (the user whose role or
    request it is; the owners asked to answer a request)."""
    if "hub_type" in fields:
        prefix = HubType(fields["hub_type"]).url_prefix
        page_cache.hub_changed(page_cache.hub_path(prefix, fields["hub_name"]))
    readers = {fields["username"]} if isinstance(fields.get("username"), str) else set()
    if f"hubs.{topic}" in JOIN_TOPICS:
        readers.update(hub_owners(db.session, fields["hub_id"]))
    for username in sorted(readers):
        page_cache.reader_changed(username)
    if current_app.config["FEDMSG_PUBLISH"]:
        publish(topic, **fields)


def _want_history(session: Session, user: User) -> None:
    """Someone new to a hub: their history comes from datagrepper (when it is on)."""
    if backfill.enabled(current_app.config):
        backfill.request_history(session, [user.username])


def hub_fields(hub: Hub) -> dict[str, Any]:
    return {
        "hub_id": hub.id,
        "hub_name": hub.name,
        "hub_type": hub.type.value,
        "hub_url": current_app.config["SITE_URL"].rstrip("/") + hub.url_path,
    }


def _widget_fields(widget: Widget) -> dict[str, Any]:
    return {**hub_fields(widget.hub), "widget_id": widget.id, "widget_label": widget_label(widget)}


def create_user(session: Session, username: str, fullname: str, email: str | None) -> User:
    user = User(username=username, fullname=fullname, email=email)
    session.add(user)
    session.commit()
    _announce("user.created", username=username, agent=username)
    return user


def create_hub(
    session: Session,
    name: str,
    hub_type: HubType,
    agent: str,
    owner: User | None = None,
    like: Hub | None = None,
    **fields,
) -> Hub:
    """A new hub with its default widgets, or the layout of the hub it is ``like`` (the
    widgets that fit its type), and its first owner, committed together before
    hub.created goes out: the backend indexes what the message announces."""
    hub = Hub(name=name, type=hub_type, **fields)
    if like is not None:
        hub.left_width = like.left_width
    session.add(hub)
    session.flush()
    session.add_all(default_widgets(hub) if like is None else _widgets_like(session, hub, like))
    if owner is not None:
        session.add(Membership(hub_id=hub.id, user_id=owner.id, role=Role.owner))
        _want_history(session, owner)  # their feed fills from the first view
    like_name = like and f"{like.type.url_prefix}/{like.name}"
    record_revision(
        session, hub, agent, "hub.created", revisions.created_sentence(agent, like_name)
    )
    session.commit()
    _announce("hub.created", **hub_fields(hub), agent=agent)
    return hub


def _widgets_like(session: Session, hub: Hub, like: Hub) -> list[Widget]:
    """Copies of ``like``'s widgets for ``hub``, those that fit its type, in their order."""
    copies, positions = [], dict.fromkeys(Column, 0)
    for widget in _widgets_of(session, like):
        widget_type = get_widget_type(widget.plugin)
        if widget_type is None or not widget_type.fits(hub.type.value):
            continue
        config = widget_type.config_of(widget)
        column, position = widget.column, positions[widget.column]
        copies.append(Widget(hub=hub, plugin=widget.plugin, column=column, position=position,
                             config=config))  # fmt: skip
        positions[column] += 1
    return copies


def _widgets_of(session: Session, hub: Hub) -> list[Widget]:
    return list(
        session.scalars(
            sa.select(Widget)
            .where(Widget.hub_id == hub.id)
            .order_by(Widget.column, Widget.position, Widget.id)
        )
    )


def hub_state(session: Session, hub: Hub) -> dict[str, Any]:
    """``hub``'s settings and widgets as a revision keeps them (see hubs.revisions)."""
    session.flush()
    return revisions.hub_state(hub_settings(hub), _widgets_of(session, hub))


def record_revision(
    session: Session, hub: Hub, agent: str, kind: str, sentence: revisions.Event
) -> HubRevision:
    """A revision of ``hub`` as it is now in the session, added to the change's own
    transaction (committed, or rolled back, with it); the oldest beyond HISTORY_KEEP go."""
    keep = current_app.config["HISTORY_KEEP"]
    return revisions.add_revision(
        session, hub, agent, kind, sentence, hub_state(session, hub), keep
    )


def _begin_history(session: Session, hub: Hub) -> None:
    """Before the first recorded change of a hub that has no revision (one made before
    revisions were kept, or by populate.py), a revision of how it is: so that change
    can be undone too."""
    of_hub = sa.select(HubRevision.id).where(HubRevision.hub_id == hub.id).limit(1)
    if session.scalar(of_hub) is None:
        record_revision(session, hub, SITE_AGENT, "hub.baseline", revisions.BASELINE_SENTENCE)


# The avatar column's length.
MAX_AVATAR_URL = 512


def _optional_url(value: Any) -> str | None:
    if value in (None, ""):
        return None
    value = validators.url(value)
    if value.lower().startswith("http://"):  # the page's CSP loads pictures over https only
        raise ValueError(
            _(
                "must be an https:// address. Use an https:// address: pages load pictures "
                "only over https, so an http:// picture would not show."
            )
        )
    if len(value) > MAX_AVATAR_URL:
        raise ValueError(_("must be at most %(num)d characters long", num=MAX_AVATAR_URL))
    return value


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in (None, "", "0", "false", "off"):
        return False
    if value in ("1", "true", "on", "y", "yes"):
        return True
    raise ValueError(_("must be true or false"))


# A hub's settings, validated like widget arguments (and edited with the same forms).
HUB_SETTINGS = [
    Argument("summary", "", validators.text(256), label=_l("Summary"),
             help=_l("One line saying what the hub is.")),
    Argument(
        "description", "", validators.text(10_000), kind="textarea", label=_l("Description"),
        help=_l("Markdown, shown by the About widget."),
    ),
    Argument(
        "avatar", "", _optional_url, label=_l("Avatar"),
        help=_l("An https:// picture address; empty: libravatar."),
    ),
    Argument(
        "left_width", 8, validators.integer(MIN_LEFT_WIDTH, MAX_LEFT_WIDTH),
        label=_l("Left width"), help=_l("Width of the left column, in twelfths of the page."),
    ),
    Argument("archived", False, _flag, label=_l("Archived"),
             help=_l("An archived hub says so on its page.")),
]  # fmt: skip


def hub_settings(hub: Hub) -> dict[str, Any]:
    return {argument.name: getattr(hub, argument.name) for argument in HUB_SETTINGS}


def update_hub(session: Session, hub: Hub, raw: dict[str, Any], agent: str) -> list[str]:
    """Validate and apply hub settings (InvalidConfig, nothing stored, when one is
    refused); returns the names of those that changed."""
    changes = validate_arguments(HUB_SETTINGS, {**hub_settings(hub), **raw})
    changed = [key for key, value in changes.items() if getattr(hub, key) != value]
    if not changed:
        return []
    _begin_history(session, hub)
    for key in changed:
        setattr(hub, key, changes[key])
    record_revision(session, hub, agent, "hub.updated", revisions.settings_sentence(agent, changed))
    session.commit()
    _announce("hub.updated", **hub_fields(hub), agent=agent, changed_keys=changed)
    return changed


def widget_title(raw: Any) -> str | None:
    """A widget's own title from what was typed (None: its kind's); ValueError if refused."""
    return TITLE.validator(raw) or None


# A widget's config or title a change leaves as it is (for a new widget: the defaults, no title).
UNCHANGED: Any = object()


def _config_and_title(widget_type, raw_config: Any, raw_title: Any, widget: Widget | None):
    """The validated config and title, or InvalidConfig naming every refused one."""
    errors: dict[str, str] = {}
    config, title = None, widget.title if widget is not None else None
    try:
        if raw_config is not UNCHANGED:
            config = widget_type.validate_config(raw_config)
        elif widget is None:
            config = widget_type.validate_config({})
        else:
            config = widget_type.config_of(widget)
    except InvalidConfig as error:
        errors.update(error.errors)
    if raw_title is not UNCHANGED:
        try:
            title = widget_title(raw_title)
        except ValueError as error:
            errors[TITLE.name] = str(error)
    if errors:
        raise InvalidConfig(errors)
    return config, title


def create_widget(
    session: Session,
    hub: Hub,
    plugin: str,
    raw_config: dict[str, Any],
    agent: str,
    column: Column = Column.left,
    raw_title: Any = UNCHANGED,
) -> Widget:
    """Add a widget at the bottom of ``column``; raises InvalidConfig or ChangeRefused."""
    widget_type = get_widget_type(plugin)
    if widget_type is None:
        raise ChangeRefused(_("there is no widget named %(name)r", name=plugin))
    if not widget_type.fits(hub.type.value):
        raise ChangeRefused(widget_type.fit_for)
    config, title = _config_and_title(widget_type, raw_config, raw_title, None)
    limit = current_app.config["MAX_WIDGETS_PER_HUB"]
    count = session.scalar(sa.select(sa.func.count()).where(Widget.hub_id == hub.id))
    if count >= limit:
        raise ChangeRefused(
            ngettext(
                "a hub holds at most %(num)d widget: remove one first",
                "a hub holds at most %(num)d widgets: remove one first",
                limit,
            )
        )
    position = session.scalar(
        sa.select(sa.func.coalesce(sa.func.max(Widget.position) + 1, 0)).where(
            Widget.hub_id == hub.id, Widget.column == column
        )
    )
    _begin_history(session, hub)
    widget = Widget(
        hub=hub, plugin=plugin, column=column, position=position, config=config, title=title
    )
    session.add(widget)
    sentence = revisions.added_sentence(agent, plugin, column)
    record_revision(session, hub, agent, "widget.created", sentence)
    session.commit()
    _announce("widget.created", **_widget_fields(widget), agent=agent)
    return widget


def update_widget_config(
    session: Session, widget: Widget, raw_config: Any, agent: str, raw_title: Any = UNCHANGED
) -> list[str]:
    """Validate and store a new config and title (either UNCHANGED: kept; an empty title:
    the kind's); returns the changed argument names, "title" among them. Raises
    InvalidConfig, storing nothing, when one is refused."""
    widget_type = get_widget_type(widget.plugin)
    if widget_type is None:
        raise ChangeRefused(_("widget %(id)d is of a kind that no longer exists", id=widget.id))
    config, title = _config_and_title(widget_type, raw_config, raw_title, widget)
    old = widget_type.config_of(widget)
    changed = sorted(key for key in config if config[key] != old.get(key))
    if title != widget.title:
        changed.append(TITLE.name)
    if not changed:
        return []
    _begin_history(session, widget.hub)
    if changed != [TITLE.name]:
        widget.config = config
    # The history names a new title as a changed setting (in a list: not counted in lines).
    was, now = {**old, TITLE.name: [widget.title]}, {**config, TITLE.name: [title]}
    widget.title = title
    sentence = revisions.configured_sentence(agent, widget.plugin, was, now)
    record_revision(session, widget.hub, agent, "widget.updated", sentence)
    session.commit()
    if TITLE.name in changed:  # same config, same cache key: its panel shows the old title
        widget_type.invalidate(widget)
    _announce("widget.updated", **_widget_fields(widget), agent=agent, changed_keys=changed)
    return changed


def move_widget(
    session: Session, widget: Widget, column: Column, position: int, agent: str
) -> bool:
    """Put ``widget`` at ``position`` (0 is the top) of ``column``; the others close up.
    False, nothing changed, when it is there already (the top or bottom asked of the
    widget at the top or bottom)."""
    here = list(
        session.scalars(
            sa.select(Widget.id)
            .where(Widget.hub_id == widget.hub_id, Widget.column == widget.column)
            .order_by(Widget.position, Widget.id)
        )
    )
    siblings = {
        col: [
            w
            for w in session.scalars(
                sa.select(Widget)
                .where(Widget.hub_id == widget.hub_id, Widget.column == col)
                .order_by(Widget.position, Widget.id)
            )
            if w.id != widget.id
        ]
        for col in Column
    }
    target = siblings[column]
    position = max(0, min(position, len(target)))
    if widget.column == column and here.index(widget.id) == position:
        return False
    _begin_history(session, widget.hub)
    was = (widget.column, here.index(widget.id))
    target.insert(position, widget)
    widget.column = column
    for widgets in siblings.values():
        for index, each in enumerate(widgets):
            each.position = index
    sentence = revisions.moved_sentence(agent, widget.plugin, was, (column, position))
    record_revision(session, widget.hub, agent, "widget.updated", sentence)
    session.commit()
    _announce(
        "widget.updated", **_widget_fields(widget), agent=agent, changed_keys=["column", "position"]
    )
    return True


def delete_widget(session: Session, widget: Widget, agent: str) -> None:
    """Remove ``widget``; those below it in its column close up (positions stay 0, 1, 2...)."""
    fields, hub = _widget_fields(widget), widget.hub
    _begin_history(session, hub)
    session.delete(widget)
    session.flush()
    below = session.scalars(
        sa.select(Widget)
        .where(Widget.hub_id == widget.hub_id, Widget.column == widget.column)
        .order_by(Widget.position, Widget.id)
    )
    for index, each in enumerate(below):
        each.position = index
    sentence = revisions.removed_sentence(agent, widget.plugin, widget.column)
    record_revision(session, hub, agent, "widget.deleted", sentence)
    session.commit()
    _announce("widget.deleted", **fields, agent=agent)


# -- whole layouts: restore, import, defaults ---------------------------------------------

# A widget a layout wants: the id it had (a revision's; None elsewhere), its plugin,
# column, raw config and own title (None: its kind's).
Wanted = tuple[int | None, str, Column, dict[str, Any], str | None]


def restore_revision(session: Session, hub: Hub, revision: HubRevision, agent: str) -> bool:
    """Bring ``hub``'s settings and widgets back to ``revision``'s (never its members:
    roles need consent), as a new revision. False when it looks that way already."""
    state = revision.state
    wanted = [
        (w["id"], w["plugin"], Column(w["column"]), w["config"], w.get("title"))
        for w in sorted(state["widgets"], key=lambda w: (w["column"], w["position"], w["id"]))
    ]
    sentence = revisions.restored_sentence(agent, revision)
    return _apply_layout(session, hub, wanted, state["settings"], agent, "hub.restored", sentence)


def import_layout(session: Session, hub: Hub, layout: revisions.Layout, agent: str) -> bool:
    """Give ``hub`` the widgets and left column width of a layout document
    (hubs.revisions.read_layout checked it), as one revision."""
    wanted = [(None, *widget) for widget in layout.widgets]
    settings = {**hub_settings(hub), "left_width": layout.left_width}
    sentence = revisions.imported_sentence(agent, len(wanted))
    return _apply_layout(session, hub, wanted, settings, agent, "hub.imported", sentence)


def restore_defaults(session: Session, hub: Hub, agent: str) -> bool:
    """Give ``hub`` back the widgets a new hub of its type starts with, as one revision."""
    wanted = [(None, *widget, None) for widget in default_layout(hub.type)]
    sentence = revisions.defaults_sentence(agent)
    return _apply_layout(session, hub, wanted, hub_settings(hub), agent, "hub.defaults", sentence)


def _checked(hub: Hub, wanted: list[Wanted], settings: dict[str, Any]):
    """Clean settings and configs, or InvalidConfig naming each problem."""
    errors: dict[str, str] = {}
    limit = current_app.config["MAX_WIDGETS_PER_HUB"]
    if len(wanted) > limit:
        errors["columns"] = ngettext(
            "a hub holds at most %(num)d widget; this layout has %(count)d",
            "a hub holds at most %(num)d widgets; this layout has %(count)d",
            limit,
            count=len(wanted),
        )
    try:
        clean_settings = validate_arguments(HUB_SETTINGS, settings)
    except InvalidConfig as error:
        errors.update({f"settings.{name}": message for name, message in error.errors.items()})
        clean_settings = {}
    clean, places = [], dict.fromkeys(Column, 0)
    for widget_id, plugin, column, config, title in wanted:
        where = f"columns.{column.value}[{places[column]}]"  # as a layout document says it
        places[column] += 1
        widget_type = get_widget_type(plugin)
        if widget_type is None:
            errors[f"{where}.plugin"] = _("there is no widget named %(name)r any more", name=plugin)
        elif not widget_type.fits(hub.type.value):
            errors[f"{where}.plugin"] = widget_type.fit_for
        else:
            try:
                clean_config = widget_type.validate_config(config)
                clean.append((widget_id, plugin, column, clean_config, title))
            except InvalidConfig as error:
                for name, message in error.errors.items():
                    errors[f"{where}.config.{name}"] = message
    if errors:
        raise InvalidConfig(errors)
    return clean, clean_settings


def _matched(current: list[Widget], wanted: list[Wanted]) -> list[Widget | None]:
    """For each wanted widget, the current one it becomes: the one with its id, else the
    first unused one of its plugin (its cached data may still serve), else None (new)."""
    by_id = {widget.id: widget for widget in current}
    used: set[int] = set()
    matches: list[Widget | None] = []
    for widget_id, plugin, *_rest in wanted:
        widget = by_id.get(widget_id)
        if widget is not None and widget.plugin == plugin:
            used.add(widget.id)
            matches.append(widget)
        else:
            matches.append(None)
    for index, (_id, plugin, *_rest) in enumerate(wanted):
        if matches[index] is None:
            spare = next((w for w in current if w.plugin == plugin and w.id not in used), None)
            if spare is not None:
                used.add(spare.id)
                matches[index] = spare
    return matches


def _apply_layout(
    session: Session,
    hub: Hub,
    wanted: list[Wanted],
    settings: dict[str, Any],
    agent: str,
    kind: str,
    sentence: revisions.Event,
) -> bool:
    """Make ``hub``'s widgets and settings those wanted, as one revision; then announce
    each widget removed, added, moved or configured, and the settings changed, as the
    single changes do (the backend drops and builds caches, pages redraw)."""
    wanted, settings = _checked(hub, wanted, settings)
    current = _widgets_of(session, hub)
    matches = _matched(current, wanted)
    positions = dict.fromkeys(Column, 0)
    _begin_history(session, hub)
    created, updated, retitled = [], [], []
    for (_id, plugin, column, config, title), widget in zip(wanted, matches, strict=True):
        position = positions[column]
        positions[column] += 1
        if widget is None:
            widget = Widget(
                hub=hub, plugin=plugin, column=column, position=position, config=config,
                title=title,
            )  # fmt: skip
            session.add(widget)
            created.append(widget)
            continue
        old = get_widget_type(plugin).config_of(widget)
        changed = sorted(key for key in config if config[key] != old.get(key))
        if changed:
            widget.config = config
        if widget.title != title:
            changed.append(TITLE.name)
            widget.title = title
            retitled.append(widget)
        if widget.column != column:
            changed.append("column")
        if widget.position != position:
            changed.append("position")
        widget.column, widget.position = column, position
        if changed:
            updated.append((widget, changed))
    kept = {widget.id for widget in matches if widget is not None}
    deleted = [_widget_fields(w) for w in current if w.id not in kept]
    for widget in current:
        if widget.id not in kept:
            session.delete(widget)
    changed_settings = [key for key, value in settings.items() if getattr(hub, key) != value]
    for key in changed_settings:
        setattr(hub, key, settings[key])
    if not (created or updated or deleted or changed_settings):
        return False
    record_revision(session, hub, agent, kind, sentence)
    session.commit()
    for widget in retitled:  # a new title keeps the cache key: its panel shows the old one
        get_widget_type(widget.plugin).invalidate(widget)
    for fields in deleted:
        _announce("widget.deleted", **fields, agent=agent)
    for widget in created:
        _announce("widget.created", **_widget_fields(widget), agent=agent)
    for widget, changed in updated:
        _announce("widget.updated", **_widget_fields(widget), agent=agent, changed_keys=changed)
    if changed_settings:
        _announce("hub.updated", **hub_fields(hub), agent=agent, changed_keys=changed_settings)
    return True


def _roles(session: Session, hub: Hub, user: User) -> dict[Role, Membership]:
    return {
        m.role: m
        for m in session.scalars(
            sa.select(Membership).where(Membership.hub_id == hub.id, Membership.user_id == user.id)
        )
    }


def _owner_count(session: Session, hub: Hub) -> int:
    return session.scalar(
        sa.select(sa.func.count())
        .select_from(Membership)
        .where(Membership.hub_id == hub.id, Membership.role == Role.owner)
    )


def set_role(session: Session, hub: Hub, user: User, role: Role, agent: str) -> bool:
    """Give ``user`` ``role`` in ``hub`` (owner and member replace each other).
    Returns False when they had it already."""
    roles = _roles(session, hub, user)
    if role in roles:
        return False
    _begin_history(session, hub)
    old_role = None
    if role in EXCLUSIVE:
        for other in EXCLUSIVE:
            if other in roles:
                if other is Role.owner and _owner_count(session, hub) == 1:
                    raise ChangeRefused(
                        _(
                            "%(username)s is the last owner of %(hub)s",
                            username=user.username,
                            hub=hub.name,
                        )
                    )
                session.delete(roles[other])
                old_role = other
    session.add(Membership(hub_id=hub.id, user_id=user.id, role=role))
    if role in EXCLUSIVE:  # a team's feed shows its owners' and members' messages
        _want_history(session, user)
    sentence = revisions.role_sentence(
        agent, user.username, role.value, old_role and old_role.value
    )
    kind = "user.role.added" if old_role is None else "user.role.changed"
    record_revision(session, hub, agent, kind, sentence)
    session.commit()
    common = {**hub_fields(hub), "username": user.username, "agent": agent, "role": role.value}
    if old_role is None:
        _announce("user.role.added", **common)
    else:
        _announce("user.role.changed", **common, old_role=old_role.value)
    return True


def remove_role(session: Session, hub: Hub, user: User, role: Role, agent: str) -> bool:
    """Take ``role`` in ``hub`` from ``user``; a hub always keeps one owner."""
    membership = _roles(session, hub, user).get(role)
    if membership is None:
        return False
    if role is Role.owner and _owner_count(session, hub) == 1:
        raise ChangeRefused(
            _("%(username)s is the last owner of %(hub)s", username=user.username, hub=hub.name)
        )
    _begin_history(session, hub)
    session.delete(membership)
    sentence = revisions.unrole_sentence(agent, user.username, role.value)
    record_revision(session, hub, agent, "user.role.removed", sentence)
    session.commit()
    _announce(
        "user.role.removed",
        **hub_fields(hub),
        username=user.username,
        agent=agent,
        role=role.value,
        old_role=role.value,
    )
    return True


def sign_up(session: Session, username: str, fullname: str, email: str | None) -> User:
    """A new user, with their own hub (they own it) and its default widgets."""
    user = create_user(session, username, fullname, email)
    create_hub(session, username, HubType.user, agent=username, owner=user, summary=fullname)
    return user


def request_to_join(session: Session, hub: Hub, user: User) -> bool:
    """Ask to become a member; False if asked already."""
    if session.get(JoinRequest, (hub.id, user.id)) is not None:
        return False
    session.add(JoinRequest(hub_id=hub.id, user_id=user.id))
    session.commit()
    _announce("hub.join.requested", **hub_fields(hub), username=user.username, agent=user.username)
    return True


def pending(session: Session, hub: Hub, user: User | None) -> tuple[bool, Invitation | None]:
    """What waits for an answer between ``user`` and ``hub``: whether they asked to join
    (the owners answer), and the invitation they have not answered yet."""
    if user is None:
        return False, None
    asked = session.get(JoinRequest, (hub.id, user.id)) is not None
    return asked, session.get(Invitation, (hub.id, user.id))


def answer_join_request(session: Session, hub: Hub, user: User, approve: bool, agent: str) -> bool:
    """Approve (the user becomes a member) or decline a pending request."""
    request = session.get(JoinRequest, (hub.id, user.id))
    if request is None:
        return False
    session.delete(request)
    session.commit()
    _announce(
        "hub.join.answered", **hub_fields(hub), username=user.username, agent=agent,
        approved=approve,
    )  # fmt: skip
    if approve:
        set_role(session, hub, user, Role.member, agent=agent)
    return True


def _requests_to(user: User) -> sa.Select:
    owned = sa.select(Membership.hub_id).where(
        Membership.user_id == user.id, Membership.role == Role.owner
    )
    return sa.select(JoinRequest).where(JoinRequest.hub_id.in_(owned))


def requests_to_answer(session: Session, user: User) -> list[JoinRequest]:
    """The pending requests to join the hubs ``user`` owns, oldest first."""
    return list(
        session.scalars(
            _requests_to(user)
            .options(joinedload(JoinRequest.hub), joinedload(JoinRequest.user))
            .order_by(JoinRequest.created, JoinRequest.hub_id)
        )
    )


def count_requests_to_answer(session: Session, user: User) -> int:
    """How many requests to join the hubs ``user`` owns wait for an answer."""
    return session.scalar(sa.select(sa.func.count()).select_from(_requests_to(user).subquery()))


def invite(session: Session, hub: Hub, user: User, role: Role, agent: str) -> str:
    """An owner making ``user`` a member or an owner of a team hub: an invitation they
    accept or decline, unless they already asked to join (their consent: done at once)
    or it takes a right away (an owner becoming a member). Returns what happened:
    "invited", "done" or "unchanged"."""
    roles = _roles(session, hub, user)
    if role in roles:
        return "unchanged"
    asked = session.get(JoinRequest, (hub.id, user.id))
    if asked is not None or (role is Role.member and Role.owner in roles):
        if asked is not None:
            session.delete(asked)
        set_role(session, hub, user, role, agent=agent)
        return "done"
    invitation = session.get(Invitation, (hub.id, user.id))
    if invitation is None:
        session.add(Invitation(hub_id=hub.id, user_id=user.id, role=role, invited_by=agent))
    else:
        invitation.role, invitation.invited_by = role, agent
    session.commit()
    return "invited"


def answer_invitation(session: Session, hub: Hub, user: User, accept: bool) -> Role | None:
    """The invited user's answer; the role they were invited to, or None when there was
    no invitation."""
    invitation = session.get(Invitation, (hub.id, user.id))
    if invitation is None:
        return None
    role = invitation.role
    session.delete(invitation)
    session.commit()
    if accept:
        set_role(session, hub, user, role, agent=user.username)
    return role


def resolve_help_request(
    session: Session, widget: Widget, msg_id: str, channel: str, user: User
) -> bool:
    """Mark the call for help ``msg_id`` answered, from ``widget``. Returns False when
    it was already."""
    exists = sa.select(ResolvedHelpRequest.id).where(ResolvedHelpRequest.msg_id == msg_id)
    if session.scalar(exists) is not None:
        return False
    session.add(ResolvedHelpRequest(msg_id=msg_id, hub_id=widget.hub_id, resolved_by=user.id))
    try:
        session.commit()
    except sa.exc.IntegrityError:  # someone else resolved it in the meantime
        session.rollback()
        return False
    _announce(
        "help.resolved",
        **_widget_fields(widget),
        agent=user.username,
        msg_id=msg_id,
        channel=channel,
    )
    return True


__all__ = [
    "ChangeRefused",
    "InvalidConfig",
    "answer_invitation",
    "answer_join_request",
    "count_requests_to_answer",
    "create_hub",
    "create_user",
    "create_widget",
    "delete_widget",
    "hub_state",
    "import_layout",
    "invite",
    "move_widget",
    "record_revision",
    "remove_role",
    "request_to_join",
    "requests_to_answer",
    "resolve_help_request",
    "restore_defaults",
    "restore_revision",
    "set_role",
    "sign_up",
    "update_hub",
    "update_widget_config",
]
