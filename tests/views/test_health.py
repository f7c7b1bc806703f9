import sqlalchemy as sa

from hubs.app import create_app
from hubs.database import db, upgrade
from tests.conftest import POSTGRES_ADMIN_URL, recreate_postgres_database, run_database_name


def test_live(client):
    assert client.get("/healthz/live").get_json() == {"status": "ok"}


def test_ready_when_database_and_cache_answer(client):
    response = client.get("/healthz/ready")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}


def _allow_connections(name: str, allowed: bool) -> None:
    name = run_database_name(name)
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {allowed}'))
        if not allowed:
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
    admin.dispose()


def test_ready_is_503_while_the_database_is_unreachable(memcached_config, tmp_path):
    name = "hubs_test_health"
    url = recreate_postgres_database(name)
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "VAR_DIR": str(tmp_path), **memcached_config})
    client = app.test_client()
    try:
        assert client.get("/healthz/ready").status_code == 200
        _allow_connections(name, False)
        down = client.get("/healthz/ready")
        assert down.status_code == 503
        assert down.get_json()["checks"]["database"].startswith("unreachable")
        assert client.get("/healthz/live").status_code == 200
        _allow_connections(name, True)
        assert client.get("/healthz/ready").status_code == 200
    finally:
        _allow_connections(name, True)
        db.session.remove()
        db.engine.dispose()


def test_pages_answer_503_not_500_while_the_database_is_unreachable(
    memcached_config, tmp_path, caplog
):
    name = "hubs_test_health"
    url = recreate_postgres_database(name)
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "VAR_DIR": str(tmp_path), **memcached_config})
    client = app.test_client()
    try:
        assert client.get("/hubs/").status_code == 200
        _allow_connections(name, False)
        with caplog.at_level("WARNING"):
            page = client.get("/hubs/")
            document = client.get("/t/infrastructure/json")
        assert page.status_code == 503 and page.headers["Retry-After"] == "5"
        assert "The database is unavailable right now" in page.text
        assert document.status_code == 503
        assert document.get_json()["error"] == "service_unavailable"
        assert not [r for r in caplog.records if r.exc_info]  # one line each, no traceback
        _allow_connections(name, True)
        assert client.get("/hubs/").status_code == 200  # and back once it is
    finally:
        _allow_connections(name, True)
        db.session.remove()
        db.engine.dispose()


def test_one_log_line_per_request_with_its_time(client, caplog):
    caplog.set_level("INFO", logger="hubs.requests")
    client.get("/healthz/live?probe=1")
    lines = [r.getMessage() for r in caplog.records if r.name == "hubs.requests"]
    assert len(lines) == 1
    method, path, status, took, unit = lines[0].split()
    assert (method, path, status, unit) == ("GET", "/healthz/live?probe=1", "200", "ms")
    assert float(took) >= 0
