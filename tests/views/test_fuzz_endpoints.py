"""Random bodies posted to every state-changing endpoint, as JSON and as forms: random
bytes, unicode, numbers and nesting, and near-valid payloads with junk values. Never a
500, and nothing changes unless the answer says it was done (2xx or 3xx)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import log_in
from tests.views.conftest import ENDPOINTS, PERSONA_USER, Endpoint, snapshot

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63 - 2, max_value=2**70)
    | st.floats()
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
# Text a form can carry: any character but half of one (a browser sends UTF-8).
form_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=60)

# My Stream's: under the user's own hub, /u/<them>/saved and /u/<them>/saved/delete.
OWN_SAVED = Endpoint("save", "saved", {"msg_id": "x"}, frozenset({"owner"}))
OWN_UNSAVED = Endpoint("unsave", "saved/delete", {"msg_id": "x"}, frozenset({"owner"}))


def person(endpoint: Endpoint) -> str:
    """Someone the endpoint lets in: the owner where they may, else the first allowed."""
    persona = "owner" if "owner" in endpoint.allowed else sorted(endpoint.allowed)[0]
    return PERSONA_USER[persona]


def bodies(endpoint: Endpoint):
    keys = [*endpoint.payload, "config", "column", "position", "username", "role", "junk"]
    near_valid = st.dictionaries(st.sampled_from(keys), json_values, max_size=4)
    return st.one_of(
        st.tuples(st.just("json"), near_valid | json_values),
        st.tuples(st.just("raw json"), st.binary(max_size=200)),
        st.tuples(st.just("form"), st.dictionaries(st.sampled_from(keys), form_text, max_size=4)),
        st.tuples(st.just("raw form"), st.binary(max_size=200)),
    )


def post(client, url: str, kind: str, body):
    """JSON to the API (the same path under /api), forms to the form's address."""
    if kind == "json":
        return client.post("/api" + url, data=json.dumps(body), content_type="application/json")
    if kind == "raw json":
        return client.post("/api" + url, data=body, content_type="application/json")
    if kind == "form":
        return client.post(url, data=body)
    return client.post(url, data=body, content_type="application/x-www-form-urlencoded")


@pytest.mark.parametrize("endpoint", [*ENDPOINTS, OWN_SAVED, OWN_UNSAVED], ids=lambda e: e.name)
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_bodies_never_500_and_change_nothing_when_refused(
    client, session, team, endpoint, data
):
    username = person(endpoint)
    log_in(client, username)
    own = endpoint in (OWN_SAVED, OWN_UNSAVED)
    url = f"/u/{username}/{endpoint.path}" if own else endpoint.url(session)
    kind, body = data.draw(bodies(endpoint), label="body")
    before = snapshot(session)
    response = post(client, url, kind, body)
    assert response.status_code < 500, (kind, body, response.text)
    if response.status_code >= 400:
        assert snapshot(session) == before, (kind, body, response.status_code)
