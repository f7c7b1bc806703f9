"""Every change the app makes to hubs, widgets, roles and users, each published on the
bus (the backend refreshes the widgets it concerns), and what still waits for an answer
(``pending``). Views call these; nothing else writes those rows. Permission checks
happen before, in the views (hubs/permissions.py)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from hubs import backfill, page_cache
from hubs.bus import publish
from hubs.default_widgets import default_widgets
from hubs.models import (
    MAX_LEFT_WIDTH,
    MIN_LEFT_WIDTH,
    Column,
    Hub,
    HubType,
    Invitation,
    JoinRequest,
    Membership,
    ResolvedHelpRequest,
    Role,
    User,
    Widget,
)
from hubs.widgets import get_widget_type, validators, widget_label
from hubs.widgets.base import TITLE, Argument, InvalidConfig, validate_arguments

# Owner and member exclude each other; subscriber and stargazer stand beside them.
EXCLUSIVE = (Role.owner, Role.member)


class ChangeRefused(ValueError):
    """A change that would break a rule (the last owner leaving, an unknown widget)."""


def _announce(topic: str, **fields: Any) -> None:
    """Say on the bus what was just committed; a hub's visitors' page is rendered anew."""
    if "hub_type" in fields:
        prefix = HubType(fields["hub_type"]).url_prefix
        page_cache.hub_changed(page_cache.hub_path(prefix, fields["hub_name"]))
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
    **fields,
) -> Hub:
    """A new hub with its default widgets (and its first owner), committed together
    before hub.created goes out: the backend indexes what the message announces."""
    hub = Hub(name=name, type=hub_type, **fields)
    session.add(hub)
    session.flush()
    session.add_all(default_widgets(hub))
    if owner is not None:
        session.add(Membership(hub_id=hub.id, user_id=owner.id, role=Role.owner))
        _want_history(session, owner)  # their feed fills from the first view
    session.commit()
    _announce("hub.created", **hub_fields(hub), agent=agent)
    return hub


# The avatar column's length.
MAX_AVATAR_URL = 512


def _optional_url(value: Any) -> str | None:
    if value in (None, ""):
        return None
    value = validators.url(value)
    if value.lower().startswith("http://"):  # the page's CSP loads pictures over https only
        raise ValueError(
            "must be an https:// address. Use an https:// address: pages load pictures "
            "only over https, so an http:// picture would not show."
        )
    if len(value) > MAX_AVATAR_URL:
        raise ValueError(f"must be at most {MAX_AVATAR_URL} characters long")
    return value


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in (None, "", "0", "false", "off"):
        return False
    if value in ("1", "true", "on", "y", "yes"):
        return True
    raise ValueError("must be true or false")


# A hub's settings, validated like widget arguments (and edited with the same forms).
HUB_SETTINGS = [
    Argument("summary", "", validators.text(256), help="One line saying what the hub is."),
    Argument(
        "description", "", validators.text(10_000), kind="textarea",
        help="Markdown, shown by the About widget.",
    ),
    Argument("avatar", "", _optional_url, help="An https:// picture address; empty: libravatar."),
    Argument(
        "left_width", 8, validators.integer(MIN_LEFT_WIDTH, MAX_LEFT_WIDTH),
        help="Width of the left column, in twelfths of the page.",
    ),
    Argument("archived", False, _flag, help="An archived hub says so on its page."),
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
    for key in changed:
        setattr(hub, key, changes[key])
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
        raise ChangeRefused(f"there is no widget named {plugin!r}")
    if not widget_type.fits(hub.type.value):
        raise ChangeRefused(widget_type.fit_for)
    config, title = _config_and_title(widget_type, raw_config, raw_title, None)
    limit = current_app.config["MAX_WIDGETS_PER_HUB"]
    count = session.scalar(sa.select(sa.func.count()).where(Widget.hub_id == hub.id))
    if count >= limit:
        raise ChangeRefused(f"a hub holds at most {limit} widgets: remove one first")
    position = session.scalar(
        sa.select(sa.func.coalesce(sa.func.max(Widget.position) + 1, 0)).where(
            Widget.hub_id == hub.id, Widget.column == column
        )
    )
    widget = Widget(
        hub=hub, plugin=plugin, column=column, position=position, config=config, title=title
    )
    session.add(widget)
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
        raise ChangeRefused(f"widget {widget.id} is of a kind that no longer exists")
    config, title = _config_and_title(widget_type, raw_config, raw_title, widget)
    old = widget_type.config_of(widget)
    changed = sorted(key for key in config if config[key] != old.get(key))
    if title != widget.title:
        changed.append(TITLE.name)
    if not changed:
        return []
    if changed != [TITLE.name]:
        widget.config = config
    widget.title = title
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
    target.insert(position, widget)
    widget.column = column
    for widgets in siblings.values():
        for index, each in enumerate(widgets):
            each.position = index
    session.commit()
    _announce(
        "widget.updated", **_widget_fields(widget), agent=agent, changed_keys=["column", "position"]
    )
    return True


def delete_widget(session: Session, widget: Widget, agent: str) -> None:
    """Remove ``widget``; those below it in its column close up (positions stay 0, 1, 2...)."""
    fields = _widget_fields(widget)
    session.delete(widget)
    session.flush()
    below = session.scalars(
        sa.select(Widget)
        .where(Widget.hub_id == widget.hub_id, Widget.column == widget.column)
        .order_by(Widget.position, Widget.id)
    )
    for index, each in enumerate(below):
        each.position = index
    session.commit()
    _announce("widget.deleted", **fields, agent=agent)


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
    old_role = None
    if role in EXCLUSIVE:
        for other in EXCLUSIVE:
            if other in roles:
                if other is Role.owner and _owner_count(session, hub) == 1:
                    raise ChangeRefused(f"{user.username} is the last owner of {hub.name}")
                session.delete(roles[other])
                old_role = other
    session.add(Membership(hub_id=hub.id, user_id=user.id, role=role))
    if role in EXCLUSIVE:  # a team's feed shows its owners' and members' messages
        _want_history(session, user)
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
        raise ChangeRefused(f"{user.username} is the last owner of {hub.name}")
    session.delete(membership)
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
    if approve:
        set_role(session, hub, user, Role.member, agent=agent)
    return True


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
    "create_hub",
    "create_user",
    "create_widget",
    "delete_widget",
    "invite",
    "move_widget",
    "remove_role",
    "request_to_join",
    "resolve_help_request",
    "set_role",
    "sign_up",
    "update_hub",
    "update_widget_config",
]
