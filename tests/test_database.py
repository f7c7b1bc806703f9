import subprocess
import sys

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from hubs.app import create_app
from hubs.database import SchemaNotMigrated, create_engine
from hubs.models import Base
from tests.conftest import recreate_postgres_database

TABLES = {
    "users", "hubs", "memberships", "widgets", "alembic_version",
    "messages", "message_users", "message_packages", "join_requests", "saved_notifications",
    "resolved_help_requests", "invitations", "backfills", "hub_revisions",
}  # fmt: skip


def test_alembic_upgrade_head_creates_the_schema_on_empty_postgresql(tmp_path):
    url = recreate_postgres_database("hubs_test_migrate")
    config = tmp_path / "config.py"
    config.write_text(f"DATABASE_URL = {url!r}\n")
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        env={"HUBS_CONFIG": str(config), "PATH": ""},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    engine = create_engine(url)
    try:
        assert set(sa.inspect(engine).get_table_names()) == TABLES
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_models(database_url):
    engine = create_engine(database_url)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    engine.dispose()


def test_app_refuses_an_unmigrated_database_and_names_the_command(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    with pytest.raises(SchemaNotMigrated) as error:
        create_app({"DATABASE_URL": url, "VAR_DIR": str(tmp_path)})
    assert "has no schema" in str(error.value)
    assert "alembic upgrade head" in str(error.value)


def test_app_refuses_a_database_behind_the_latest_migration(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
        connection.execute(sa.text("INSERT INTO alembic_version VALUES ('0000')"))
    engine.dispose()
    with pytest.raises(SchemaNotMigrated, match="is at revision 0000"):
        create_app({"DATABASE_URL": url, "VAR_DIR": str(tmp_path)})
