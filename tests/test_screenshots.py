"""The README shows the pictures `make screenshots` makes, and only those."""

import re

from tests.browser.screenshots import FOLDER, SHOTS, WIDTHS
from tests.stack import ROOT


def test_the_readme_shows_screenshots_the_script_makes_and_they_are_committed():
    made = {shot.file(width).relative_to(ROOT) for shot in SHOTS for width in WIDTHS}
    shown = set(
        re.findall(
            r"^\.\. image:: (docs/screenshots/\S+)$", (ROOT / "README.rst").read_text(), re.M
        )
    )
    assert shown, "the README shows no screenshot"
    assert {str(path) for path in made} >= shown
    assert {str(path.relative_to(ROOT)) for path in FOLDER.glob("*.png")} == {str(p) for p in made}
    for name in ("home", "team-hub", "my-stream"):
        assert any(f"/{name}-" in path for path in shown), name
