"""Random configs posted to every widget's config endpoint: never a 500, and what is
stored always passes the widget's own validation."""

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubs.models import Role, Widget
from hubs.widgets import registry
from tests import factories
from tests.conftest import log_in

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
link_lists = st.lists(
    st.fixed_dictionaries(
        {
            "title": st.text(max_size=20),
            "url": st.sampled_from(
                ["https://fedoraproject.org", "javascript:alert(1)", "", "http://x", "ftp://y"]
            ),
        }
    ),
    max_size=3,
)


def configs_for(widget_type):
    """Dicts mixing the widget's argument names, near-valid values and junk."""
    names = [a.name for a in widget_type.arguments] + ["junk", "text", "size"]
    values = json_values | link_lists | st.integers(-10, 1000) | st.text(max_size=300)
    return st.one_of(
        st.dictionaries(st.sampled_from(names), values, max_size=4),
        json_values,  # not even an object
    )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_configs_never_500_never_stored_invalid(client, session, data):
    # Examples share the test's transaction: each gets fresh rows of its own.
    owner = factories.user(session)
    hub = factories.hub(session)
    factories.role(session, hub, owner, Role.owner)
    widgets = {name: factories.widget(session, hub, name) for name in registry}
    session.commit()
    log_in(client, owner.username)
    for name, widget in widgets.items():
        config = data.draw(configs_for(registry[name]), label=name)
        response = client.post(f"/api{hub.url_path}w/{widget.id}/config", json={"config": config})
        assert response.status_code in (200, 400), (name, config, response.text)
        session.expire_all()
        stored = session.scalar(sa.select(Widget.config).where(Widget.id == widget.id))
        if response.status_code == 200:  # the effective config is the one posted
            assert registry[name].validate_config(stored) == registry[name].validate_config(config)
        else:
            assert stored == {}  # as created: nothing was stored
        registry[name].validate_config(stored)  # raises if what is stored is invalid
