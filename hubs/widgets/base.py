"""The widget contract: what a widget module declares, checked when it is registered.

A widget module has:

- ``ARGUMENTS``: a list of :class:`Argument` (may be empty), which validate every
  config and generate the config form;
- ``data(session, widget, **config) -> dict | WidgetData``: JSON-serialisable data,
  or a :class:`WidgetData` holding it with the moment it goes stale with the clock;
- ``template``: the name of its Jinja template under ``hubs/widgets/templates/``;
- ``chrome`` (optional): a :class:`Chrome`, the panel around it;
- ``should_invalidate(message, session, widget) -> bool``, decorated with
  :func:`hints` naming the topics/categories and the users/packages it reacts to;
- ``TITLE`` and ``DESCRIPTION`` shown to people choosing widgets, marked with ``_l``
  (hubs.i18n) like every argument's ``help`` and ``label`` and the chrome's title;
- ``HUB_TYPES`` (optional): the kinds of hub it fits, of ``"team"`` and ``"user"``
  (both by default); it is offered, and may be added, only there;
- ``CLIENTS`` (optional): the classes of :mod:`hubs.clients` whose services it calls;
  in demo mode they answer from recordings and its panel says "Demo data";
- ``refresh(session, widget, data, **config) -> WidgetData | None`` (optional): bring
  cached ``data`` up to date more cheaply than ``data()`` (the feed adds its new
  entries), with the HTML the pages add on top (``prepend``), or None when only a full
  rebuild will do.

What a widget answers becomes, through :class:`WidgetType`, one
:class:`hubs.cache.Envelope`, whether it was built (``build``/``rebuild``) or refreshed
(``refresh``): the cache stores it, pages draw its ``html``, the backend pushes it
(``hubs.rendering.widget_event``).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from flask_babel import LazyString

from hubs.cache import (
    Envelope,
    cache_key,
    compute_envelope,
    data_envelope,
    get_cached,
    get_or_build,
    invalidate,
    keep_newest,
    new_version,
    rebuild,
)
from hubs.clients import ServiceClient
from hubs.i18n import _, _l, in_default_locale, text
from hubs.models.widget import MAX_WIDGET_TITLE
from hubs.rendering import render_panel
from hubs.widgets import validators

# The kinds of hub (hubs.models.HubType's values) a widget fits unless it says otherwise.
ALL_HUB_TYPES = ("team", "user")

TEMPLATE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")


class WidgetContractError(TypeError):
    """A widget module does not follow the contract."""

    def __init__(self, name: str, problems: list[str]) -> None:
        self.name = name
        self.problems = problems
        super().__init__(f"widget {name!r} is not valid: " + "; ".join(problems))


class InvalidConfig(ValueError):
    """A widget config failed validation; ``errors`` maps argument name to message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))


@dataclass(frozen=True)
class Argument:
    """One setting of a widget (or of a hub): its default, its validator, its help text,
    and the form control that edits it ("text", "textarea", "number", "checkbox",
    "select", "links"; by default a select for a :class:`validators.Choice`, a number
    input for a :class:`validators.Integer`, else guessed from the default value)."""

    name: str
    default: Any
    validator: Callable[[Any], Any]
    help: str  # lazy text (``_l``): read in the language of each page
    label: str = ""
    kind: str = ""

    @property
    def display_label(self) -> str:
        """The label of its form field, in the reader's language."""
        if self.label:
            return text(self.label)
        return self.name.replace("_", " ").capitalize()  # settings with no label: not ours

    @property
    def control(self) -> str:
        if self.kind:
            return self.kind
        if isinstance(self.validator, validators.Choice):
            return "select"
        if isinstance(self.default, bool):
            return "checkbox"
        if isinstance(self.default, int):
            return "number"
        if isinstance(self.default, list):
            return "links"
        return "text"

    @property
    def choices(self) -> tuple[str, ...]:
        """What a select offers (nothing for other controls)."""
        return self.validator.choices if isinstance(self.validator, validators.Choice) else ()

    @property
    def bounds(self) -> tuple[int, int] | None:
        """The least and the greatest number allowed, when the validator says."""
        if isinstance(self.validator, validators.Integer):
            return self.validator.minimum, self.validator.maximum
        return None


# Every widget's own title (Widget.title), edited beside its arguments; none may share its name.
TITLE = Argument(
    "title",
    "",
    validators.text(max_length=MAX_WIDGET_TITLE),
    help=_l(
        "Shown at the top of the panel instead of the widget's usual title; empty: the usual one."
    ),
    label=_l("Title"),
)


def validate_arguments(arguments: Iterable[Argument], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Clean values for ``arguments`` from ``raw``, or InvalidConfig naming each bad one.

    Missing values take their default; unknown names are refused."""
    if not isinstance(raw, Mapping):
        raise InvalidConfig({"config": _("must be an object of argument values")})
    arguments = list(arguments)
    known = {argument.name for argument in arguments}
    errors = {name: _("is not a known setting") for name in raw if name not in known}
    clean = {}
    for argument in arguments:
        value = raw.get(argument.name, argument.default)
        try:
            clean[argument.name] = argument.validator(value)
        except ValueError as error:
            errors[argument.name] = str(error)
        except Exception:  # a validator surprised by a value's type
            errors[argument.name] = _("is not a valid value")
    if errors:
        raise InvalidConfig(errors)
    return clean


@dataclass(frozen=True)
class Chrome:
    """The panel a widget is drawn in."""

    title: str | None = None
    # With hide_when_empty, the panel is not drawn while is_empty(data) is true.
    hide_when_empty: bool = False
    is_empty: Callable[[dict], bool] = field(default=lambda data: not any(data.values()))


DEFAULT_CHROME = Chrome()


@dataclass(frozen=True)
class Prepend:
    """HTML that the pages showing the previous version add at the top of the widget's
    element with data-role ``role``, keeping what they loaded since (a feed's older
    pages), instead of replacing the panel."""

    role: str
    html: str


@dataclass(frozen=True)
class WidgetData:
    """What data() or refresh() answers when a plain dict is not enough: the data; the
    moment (seconds since 1970) after which it must be computed again when no message
    will say so (a meeting starts), None: until a message or a config change; and, from
    refresh() only, what the pages add on top of what they show."""

    data: dict
    fresh_until: float | None = None
    prepend: Prepend | None = None


UsersOrPackages = Callable[[Any, Any], Iterable[str]]


ANY = "*"


@dataclass(frozen=True)
class Hints:
    """What messages a widget can react to, so the backend asks only the right ones.

    A message is offered to a widget when its topic or category is hinted and, if the
    widget names usernames, packages or keys, the message involves one of them; with
    ``own_hub``, only hubs' own messages about the widget's hub are offered. A widget
    with ``history`` says whether its people's history is still being fetched: it is
    rebuilt when the backfill of one of them ends, whatever it stored.
    """

    topics: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    usernames: UsersOrPackages | None = None
    packages: UsersOrPackages | None = None
    own_hub: bool = False
    history: bool = False
    # What a widget follows besides people and packages (a calendar, a project), and
    # the same read from a message of its topics: offered when they share one.
    keys: UsersOrPackages | None = None
    message_keys: Callable[[dict], Iterable[str]] | None = None

    def matches_topic(self, suffix: str, category: str) -> bool:
        return suffix in self.topics or category in self.categories or ANY in self.categories


def hints(
    *,
    topics: Iterable[str] = (),
    categories: Iterable[str] = (),
    usernames: UsersOrPackages | None = None,
    packages: UsersOrPackages | None = None,
    own_hub: bool = False,
    history: bool = False,
    keys: UsersOrPackages | None = None,
    message_keys: Callable[[dict], Iterable[str]] | None = None,
) -> Callable[[Callable], Callable]:
    """Declare the hints of a ``should_invalidate`` function.

    Topics are named without their environment prefix ("hubs.widget.updated",
    "fedbadges.badge.award"); categories are a topic's first part ("bodhi"), or ANY
    for every category. ``usernames``/``packages`` give, for one widget, the accounts
    or packages whose messages concern it; ``own_hub`` limits hubs' own messages to
    those about the widget's hub; ``history``, that the widget shows whether its
    people's history is still being fetched (hubs.backfill). ``keys`` gives what else one
    widget follows (its calendar), and ``message_keys`` the same of a message (the
    calendar it is about): the message is offered to the widgets sharing one.
    """
    declared = Hints(
        frozenset(topics), frozenset(categories), usernames, packages, own_hub, history,
        keys, message_keys,
    )  # fmt: skip
    if (keys is None) != (message_keys is None):
        raise ValueError("keys hints need both the widget's keys and the message's")
    if keys is not None and (usernames or packages or own_hub or ANY in declared.categories):
        raise ValueError("keys hints stand alone: no usernames, packages, own_hub or ANY")
    if not (declared.topics or declared.categories):
        raise ValueError("hints need at least one topic or category")
    if ANY in declared.categories and not (usernames or packages):
        raise ValueError("hints for every category need usernames or packages")
    if history and usernames is None:
        raise ValueError("history hints need the widget's usernames")
    if own_hub and (usernames or packages):
        raise ValueError("own_hub hints cannot also name usernames or packages")
    if own_hub and not all(topic.startswith("hubs.") for topic in declared.topics):
        raise ValueError("own_hub hints are for hubs' own topics only")

    def decorate(function: Callable) -> Callable:
        function.hints = declared
        return function

    return decorate


class WidgetType:
    """A validated widget module, with its data wrapped by the cache."""

    def __init__(self, module: ModuleType) -> None:
        self.name: str = module.__name__.rsplit(".", 1)[-1]
        problems = _contract_problems(module)
        if problems:
            raise WidgetContractError(self.name, problems)
        self.module = module
        self._title = module.TITLE
        self._description = module.DESCRIPTION
        self.arguments: tuple[Argument, ...] = tuple(module.ARGUMENTS)
        self.template: str = module.template
        self.chrome: Chrome = getattr(module, "chrome", None) or DEFAULT_CHROME
        self.hub_types: frozenset[str] = frozenset(getattr(module, "HUB_TYPES", ALL_HUB_TYPES))
        self.clients: tuple[type[ServiceClient], ...] = tuple(getattr(module, "CLIENTS", ()))
        self.should_invalidate: Callable = module.should_invalidate
        self.hints: Hints = module.should_invalidate.hints
        self._data: Callable[..., dict | WidgetData] = module.data
        self._refresh: Callable[..., WidgetData | None] | None = getattr(module, "refresh", None)

    def __repr__(self) -> str:
        return f"<WidgetType {self.name}>"

    @property
    def title(self) -> str:
        """What the kind of widget is called, in the reader's language."""
        return text(self._title)

    @property
    def description(self) -> str:
        return text(self._description)

    @property
    def external(self) -> bool:
        """Whether its data comes from Fedora's web services (not hubs' own tables)."""
        return bool(self.clients)

    def fits(self, hub_type: str) -> bool:
        """Whether it is meant for a hub of ``hub_type`` ("team" or "user")."""
        return str(hub_type) in self.hub_types

    @property
    def fit_for(self) -> str:
        """Which hubs it is for, as a refusal says it."""
        if self.hub_types == {"team"}:
            return _("The %(widget)s widget is for team hubs only.", widget=self.title)
        if self.hub_types == {"user"}:
            return _("The %(widget)s widget is for user hubs only.", widget=self.title)
        return _("The %(widget)s widget is for team hubs and user hubs only.", widget=self.title)

    def defaults(self) -> dict[str, Any]:
        return {argument.name: argument.default for argument in self.arguments}

    def validate_config(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """A clean config from ``raw``, or InvalidConfig naming each bad argument."""
        return validate_arguments(self.arguments, raw)

    def panel_title(self, widget) -> str | None:
        """The title at the top of the widget's panel: its own, else its chrome's or kind's."""
        return widget.title or text(self.chrome.title) or self.title

    def label_of(self, widget) -> str:
        """How a sentence names the widget: its own title, else its kind's."""
        return widget.title or self.title

    def config_of(self, widget) -> dict[str, Any]:
        """The widget's stored config with defaults filled in."""
        return {**self.defaults(), **(widget.config or {})}

    def cache_key(self, widget) -> str:
        return cache_key(widget.hub_id, widget.id, self.name, self.config_of(widget))

    def call_data(self, session, widget) -> WidgetData:
        """Call the widget's data() directly, bypassing the cache."""
        answer = self._data(session, widget, **self.config_of(widget))
        return answer if isinstance(answer, WidgetData) else WidgetData(answer)

    def compute(self, session, widget) -> dict:
        """The widget's data from its data(), bypassing the cache."""
        return self.call_data(session, widget).data

    @in_default_locale
    def build(self, session, widget) -> Envelope:
        """Compute the widget's data and render its panel (needs an app context)."""
        version = new_version()

        def computed() -> Envelope:
            answer = self.call_data(session, widget)
            if answer.prepend is not None:
                raise ValueError("data() answered a prepend: only refresh() can")
            return data_envelope(answer.data, version, answer.fresh_until)

        envelope = compute_envelope(computed, repr(widget), version)
        envelope["html"] = render_panel(widget, self, envelope)
        return envelope

    def data(self, session, widget) -> Envelope:
        """The cached envelope of this widget, built when missing."""
        return get_or_build(self.cache_key(widget), lambda: self.build(session, widget))

    def rebuild(self, session, widget) -> Envelope:
        """Recompute and store this widget's envelope now."""
        return rebuild(self.cache_key(widget), lambda: self.build(session, widget))

    @in_default_locale
    def refresh(self, session, widget) -> Envelope | None:
        """Update the cached envelope with the widget's refresh(), without a full
        rebuild; its ``prepend`` names the version it adds to. None when the widget
        has no refresh(), nothing good is cached, or refresh() declines (then
        rebuild())."""
        if self._refresh is None:
            return None
        key = self.cache_key(widget)
        version = new_version()
        [cached] = get_cached([key])
        if not cached or not cached.get("ok"):
            return None
        answer = self._refresh(session, widget, cached["data"], **self.config_of(widget))
        if answer is None:
            return None
        envelope = data_envelope(answer.data, version, answer.fresh_until)
        if answer.prepend is not None:
            envelope["prepend"] = {
                "role": answer.prepend.role,
                "html": answer.prepend.html,
                "after": cached["version"],
            }
        envelope["html"] = render_panel(widget, self, envelope)
        return keep_newest(key, envelope)

    def invalidate(self, widget) -> None:
        """Drop the cached data of ``widget`` as configured now."""
        invalidate(self.cache_key(widget))

    def invalidate_key(self, hub_id: int, widget_id: int, config: Mapping[str, Any]) -> None:
        """Drop the cached data a widget had under a former ``config``."""
        invalidate(cache_key(hub_id, widget_id, self.name, {**self.defaults(), **config}))


def _contract_problems(module: ModuleType) -> list[str]:
    problems = []
    for attribute in ("TITLE", "DESCRIPTION"):
        if not is_text(getattr(module, attribute, None)):
            problems.append(f"no {attribute} text")

    data = getattr(module, "data", None)
    if not callable(data):
        problems.append("no data(session, widget, **config) function")

    hub_types = getattr(module, "HUB_TYPES", ALL_HUB_TYPES)
    if isinstance(hub_types, str) or not set(hub_types) or not set(hub_types) <= set(ALL_HUB_TYPES):
        problems.append(f"HUB_TYPES must name some of {', '.join(ALL_HUB_TYPES)}")

    clients = getattr(module, "CLIENTS", ())
    if isinstance(clients, str) or not all(
        isinstance(client, type) and issubclass(client, ServiceClient) for client in clients
    ):
        problems.append("CLIENTS must list classes of hubs.clients (the services it calls)")

    template = getattr(module, "template", None)
    if not isinstance(template, str):
        problems.append("no template")
    elif not os.path.isfile(os.path.join(TEMPLATE_DIR, template)):
        problems.append(f"template {template!r} is not a file in hubs/widgets/templates/")

    chrome = getattr(module, "chrome", None)
    if chrome is not None and not isinstance(chrome, Chrome):
        problems.append("chrome is not a hubs.widgets.base.Chrome")

    should_invalidate = getattr(module, "should_invalidate", None)
    if not callable(should_invalidate):
        problems.append("no should_invalidate(message, session, widget) function")
    elif not isinstance(getattr(should_invalidate, "hints", None), Hints):
        problems.append("should_invalidate has no hints (decorate it with @hints(...))")

    arguments = getattr(module, "ARGUMENTS", None)
    if not isinstance(arguments, (list, tuple)):
        problems.append("no ARGUMENTS list")
        return problems
    for argument in arguments:
        if not isinstance(argument, Argument):
            problems.append(f"argument {argument!r} is not a hubs.widgets.base.Argument")
            continue
        if not callable(argument.validator):
            problems.append(f"argument {argument.name!r} has no validator")
        if argument.name == TITLE.name:
            problems.append(f"argument {argument.name!r} would hide the widget's own title")
        if not (is_text(argument.help) and str(argument.help).strip()):
            problems.append(f"argument {argument.name!r} has no help text")
        elif callable(argument.validator):
            try:
                argument.validator(argument.default)
            except ValueError as error:
                problems.append(f"argument {argument.name!r}: its default {error}")
    names = [a.name for a in arguments if isinstance(a, Argument)]
    if callable(data) and len(names) == len(arguments):
        problems.extend(_signature_problems(data, names))
    refresh = getattr(module, "refresh", None)
    if refresh is not None:
        if not callable(refresh):
            problems.append("refresh is not a function")
        elif len(names) == len(arguments):
            problems.extend(
                problem.replace("data()", "refresh()")
                for problem in _signature_problems(refresh, names)
            )
    return problems


def is_text(value: Any) -> bool:
    """Whether ``value`` is text: a string, or one translated when read (``_l``)."""
    return isinstance(value, (str, LazyString))


def _signature_problems(data: Callable, names: list[str]) -> list[str]:
    parameters = inspect.signature(data).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return []
    missing = [name for name in names if name not in parameters]
    return [f"data() takes no argument {name!r}" for name in missing]
