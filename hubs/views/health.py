"""Health checks for load balancers and systemd: alive, and ready to serve."""

import sqlalchemy as sa
from flask import Blueprint, jsonify

from hubs.cache import ping
from hubs.database import db

bp = Blueprint("health", __name__, url_prefix="/healthz")


@bp.route("/live")
def live():
    return jsonify(status="ok")


@bp.route("/ready")
def ready():
    checks = {}
    try:
        db.session.execute(sa.text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:
        db.session.rollback()
        checks["database"] = f"unreachable: {type(error).__name__}"
    try:
        ping()  # the region itself hides cache failures: pages must render without it
        checks["cache"] = "ok"
    except Exception as error:
        checks["cache"] = f"unreachable: {type(error).__name__}"
    healthy = all(value == "ok" for value in checks.values())
    return jsonify(status="ok" if healthy else "unavailable", checks=checks), (
        200 if healthy else 503
    )
