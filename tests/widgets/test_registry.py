"""The registry refuses any widget that breaks the contract, naming what is missing."""

import pathlib
import types

import pytest

import hubs.widgets
from hubs.i18n import _l
from hubs.widgets import build_registry, registry, validators
from hubs.widgets.base import Argument, InvalidConfig, WidgetContractError, hints


def widget_module(name="demo", **overrides) -> types.ModuleType:
    """A module that follows the contract, with ``overrides`` applied (None deletes)."""
    module = types.ModuleType(f"hubs.widgets.{name}")

    def data(session, widget, text):
        return {"text": text}

    @hints(topics=["hubs.widget.updated"])
    def should_invalidate(message, session, widget):
        return False

    attributes = {
        "TITLE": "Demo",
        "DESCRIPTION": "A widget for tests.",
        "ARGUMENTS": [Argument("text", "", validators.text(100), help="Some text.")],
        "template": "sticky.html",
        "data": data,
        "should_invalidate": should_invalidate,
    }
    attributes.update(overrides)
    for key, value in attributes.items():
        if value is not None:
            setattr(module, key, value)
    return module


def refusal(**overrides) -> str:
    with pytest.raises(WidgetContractError) as error:
        build_registry([widget_module(**overrides)])
    assert error.value.name == "demo"
    assert "'demo'" in str(error.value)
    return str(error.value)


def test_a_widget_following_the_contract_is_registered():
    assert list(build_registry([widget_module()])) == ["demo"]


def test_texts_translated_when_read_are_text_to_the_contract():
    translated = widget_module(
        TITLE=_l("Demo"),
        DESCRIPTION=_l("A widget for tests."),
        ARGUMENTS=[Argument("text", "", validators.text(100), help=_l("Some text."))],
    )
    [kind] = build_registry([translated]).values()
    # Plain text in the reader's language when read: JSON and the cache take it.
    assert type(kind.title) is str and type(kind.description) is str
    assert (kind.title, kind.description) == ("Demo", "A widget for tests.")


def test_refuses_a_widget_without_help_text_even_translated():
    blank = [Argument("text", "", validators.text(100), help=_l(" "))]
    assert "argument 'text' has no help text" in refusal(ARGUMENTS=blank)


def test_every_setting_of_every_widget_has_a_label_of_its_own():
    """A label made from the setting's name would be English in every language."""
    unlabelled = [
        f"{kind.name}.{argument.name}"
        for kind in registry.values()
        for argument in kind.arguments
        if not argument.label
    ]
    assert unlabelled == []


def test_refuses_a_widget_without_data():
    assert "no data(session, widget, **config) function" in refusal(data=None)


def test_refuses_a_widget_without_template():
    assert "no template" in refusal(template=None)


def test_refuses_a_template_that_does_not_exist():
    assert "'nowhere.html' is not a file" in refusal(template="nowhere.html")


def test_refuses_a_widget_without_hints():
    def should_invalidate(message, session, widget):
        return True

    assert "should_invalidate has no hints" in refusal(should_invalidate=should_invalidate)


def test_refuses_a_widget_without_should_invalidate():
    assert "no should_invalidate" in refusal(should_invalidate=None)


def test_hints_need_a_topic_or_category():
    with pytest.raises(ValueError, match="at least one topic or category"):
        hints(usernames=lambda session, widget: [])


def test_refuses_an_argument_without_validator():
    arguments = [Argument("text", "", validator=None, help="Some text.")]
    assert "argument 'text' has no validator" in refusal(ARGUMENTS=arguments)


def test_refuses_an_argument_without_help():
    arguments = [Argument("text", "", validators.text(100), help=" ")]
    assert "argument 'text' has no help text" in refusal(ARGUMENTS=arguments)


def test_refuses_a_default_its_validator_rejects():
    arguments = [Argument("text", "x" * 200, validators.text(100), help="Some text.")]
    assert "argument 'text': its default must be at most 100" in refusal(ARGUMENTS=arguments)


def test_refuses_an_argument_data_does_not_take():
    arguments = [
        Argument("text", "", validators.text(100), help="Some text."),
        Argument("size", 1, validators.integer(1, 9), help="A size."),
    ]
    assert "data() takes no argument 'size'" in refusal(ARGUMENTS=arguments)


def test_refuses_a_widget_without_arguments_list():
    assert "no ARGUMENTS list" in refusal(ARGUMENTS=None)


@pytest.mark.parametrize("clients", ["BadgesClient", [object], ["hubs.clients.badges"]])
def test_refuses_clients_that_are_not_service_clients(clients):
    assert "CLIENTS must list classes of hubs.clients" in refusal(CLIENTS=clients)


def test_a_widget_declaring_its_services_is_external():
    from hubs.clients.badges import BadgesClient

    [widget_type] = build_registry([widget_module(CLIENTS=[BadgesClient])]).values()
    assert widget_type.external and widget_type.clients == (BadgesClient,)
    [local] = build_registry([widget_module()]).values()
    assert not local.external


def test_refuses_a_widget_registered_twice():
    with pytest.raises(WidgetContractError, match="registered twice"):
        build_registry([widget_module(), widget_module()])


def test_every_shipped_widget_is_registered():
    """Every module of hubs/widgets/ but the framework's own and the pieces widgets
    share (named with a leading underscore, as their templates) is a registered widget."""
    package = pathlib.Path(hubs.widgets.__file__).parent
    stems = {path.stem for path in package.glob("*.py") if not path.stem.startswith("_")}
    modules = stems - {"base", "validators"}
    assert len(modules) >= 18 and set(registry) == modules


def test_validate_config_fills_defaults_and_names_each_bad_argument():
    sticky = registry["sticky"]
    assert sticky.validate_config({}) == {"text": ""}
    with pytest.raises(InvalidConfig) as error:
        sticky.validate_config({"text": 42, "colour": "red"})
    assert error.value.errors == {
        "text": "must be text",
        "colour": "is not a known setting",
    }
    with pytest.raises(InvalidConfig):
        sticky.validate_config(["not", "a", "mapping"])
