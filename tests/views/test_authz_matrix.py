"""Every state-changing endpoint x every kind of visitor: the allowed succeed, the others
get 401/403 and nothing changes."""

import pytest

from tests.conftest import log_in
from tests.views.conftest import ENDPOINTS, PERSONA_USER, PERSONAS, snapshot


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
@pytest.mark.parametrize("way", ["api", "form"])
def test_authorization_matrix(client, session, team, endpoint, persona, way, published):
    log_in(client, PERSONA_USER[persona])
    before = snapshot(session)
    if way == "api":
        response = client.post(endpoint.api_url(session), json=endpoint.payload)
    else:
        response = client.post(endpoint.url(session), data=endpoint.form)
    after = snapshot(session)
    if persona in endpoint.allowed:
        if way == "api":
            assert response.status_code == 200, response.get_json()
            assert response.get_json()["ok"] is True
        else:
            assert response.status_code == 302, response.text
        assert after != before or endpoint.name in ("unsubscribe", "unstar", "subscribe")
    else:
        assert response.status_code == (401 if persona == "anonymous" else 403)
        assert after == before
        assert published == []


def test_anonymous_forms_are_sent_to_log_in(client, team):
    response = client.get("/t/infrastructure/edit/settings")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=/t/infrastructure/edit/settings")
