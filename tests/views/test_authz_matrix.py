"""Every state-changing endpoint x every kind of visitor: the allowed succeed, the others
get 401/403 and nothing changes."""

import pytest
import sqlalchemy as sa

from hubs.models import HubRevision
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


# The history's pages, under /t/infrastructure/: only its owners read them (the
# anonymous are sent to log in, as on every owners' page); the export, anyone.
READS = {
    "history": ("history/", {"owner"}),
    "history page 1": ("history/?page=1", {"owner"}),
    "revision": ("history/{revision}/", {"owner"}),
    "import form": ("edit/import", {"owner"}),
    "export": ("export", set(PERSONAS)),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("read", READS, ids=str)
def test_history_pages_matrix(client, session, team, read, persona):
    log_in(client, PERSONA_USER[persona])
    path, allowed = READS[read]
    revision = session.scalar(sa.select(sa.func.min(HubRevision.id)))
    before = snapshot(session)
    response = client.get("/t/infrastructure/" + path.format(revision=revision))
    if persona in allowed:
        assert response.status_code == 200, response.text
    elif persona == "anonymous":
        assert response.status_code == 302
        assert response.location.startswith("/login?next=/t/infrastructure/")
    else:
        assert response.status_code == 403
        assert "Only the owners of infrastructure" in response.text
    assert snapshot(session) == before
