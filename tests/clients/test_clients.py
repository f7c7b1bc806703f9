"""What every client keeps to: a shared session is left as it was, a name becomes one
path segment of a URL, and an account name is judged by one rule everywhere."""

import pytest
import requests
import responses

from hubs.accounts import is_account_name
from hubs.clients.bodhi import BodhiClient
from hubs.clients.fasjson import FasjsonClient


def test_the_bodhi_client_leaves_a_shared_session_as_it_was():
    shared = requests.Session()
    before = dict(shared.headers)
    with responses.RequestsMock() as mock:
        mock.get("https://bodhi.example/updates/", json={"updates": [], "pages": 1})
        BodhiClient("https://bodhi.example/", (1, 1), http=shared).updates_in_testing("ralph")
        assert mock.calls[0].request.headers["Accept"] == "application/json"
    assert dict(shared.headers) == before


def test_a_fasjson_group_name_is_one_path_segment():
    client = FasjsonClient("https://fasjson.example/")
    with responses.RequestsMock() as mock:
        mock.get("https://fasjson.example/v1/groups/a%2F..%2Fusers/", json={
            "result": {"groupname": "a/../users"}})  # fmt: skip
        assert client.group("a/../users").name == "a/../users"


@pytest.mark.parametrize(
    ("name", "valid"),
    [("ralph", True), ("r2-d2.x_y", True), ("Ralph", True), ("2ralph", False),
     ("ralph\n", False), ("", False), ("a" * 64, True), ("a" * 65, False), (None, False)],
)  # fmt: skip
def test_one_rule_for_account_names(name, valid):
    assert is_account_name(name) is valid
