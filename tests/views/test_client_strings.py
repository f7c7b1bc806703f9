"""What the scripts say comes from the page: one JSON block, the same keys and English
as the scripts' own fallback (hubs/static/client/strings.js)."""

import json
import pathlib
import re

from tests.conftest import log_in
from tests.html import elements

STRINGS_JS = pathlib.Path(__file__).parents[2] / "hubs" / "static" / "client" / "strings.js"


def scripts_english() -> dict[str, str]:
    """strings.js's ENGLISH object, one ``key: "text",`` a line."""
    body = STRINGS_JS.read_text().split("export const ENGLISH = {")[1].split("};")[0]
    return {key: json.loads(text) for key, text in re.findall(r'^\s+(\w+): (".*"),$', body, re.M)}


def strings_block(html: str) -> dict[str, str]:
    blocks = [e for e in elements(html) if e.get("data-role") == "strings"]
    assert len(blocks) == 1
    assert blocks[0]["<tag>"] == "script" and blocks[0]["type"] == "application/json"
    return json.loads(html.split('data-role="strings">')[1].split("</script>")[0])


def test_every_page_carries_the_scripts_strings_as_data(client, team):
    assert strings_block(client.get("/").text)["live"] == "live"
    log_in(client, "nirik")
    for path in ("/", "/t/infrastructure/?edit=1", "/u/nirik/stream"):
        assert strings_block(client.get(path).text)["moved"] == "Moved. %(place)s", path


def test_the_pages_strings_and_the_scripts_fallback_say_the_same(client, team):
    english = scripts_english()
    assert len(english) > 10  # the object was found
    assert strings_block(client.get("/").text) == english
