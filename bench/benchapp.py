"""The app as bench/page.py serves it through gunicorn: Hubs plus a trivial route."""

from hubs.app import create_app


def trivial() -> str:
    return "ok"


app = create_app()
app.add_url_rule("/bench/trivial", "trivial", trivial)
