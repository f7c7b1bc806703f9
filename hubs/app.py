"""The web application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_bootstrap import Bootstrap5
from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader

from hubs.cache import configure_cache
from hubs.config import load_config
from hubs.database import db
from hubs.widgets.base import TEMPLATE_DIR as WIDGET_TEMPLATE_DIR

bootstrap = Bootstrap5()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then $HUBS_CONFIG, then ``config``."""
    app = Flask(__name__)
    app.config.update(load_config(config))

    db.init_app(app)
    configure_cache(app.config)
    bootstrap.init_app(app)
    app.jinja_loader = ChoiceLoader(
        [app.jinja_loader, PrefixLoader({"widgets": FileSystemLoader(WIDGET_TEMPLATE_DIR)})]
    )

    from hubs.views import avatars, errors, home, hubs

    app.register_blueprint(avatars.bp)
    app.register_blueprint(home.bp)
    app.register_blueprint(hubs.bp)
    errors.init_app(app)

    @app.context_processor
    def _site():
        return {"site_name": app.config["SITE_NAME"]}

    return app
