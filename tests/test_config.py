import pytest

from hubs import default_config
from hubs.app import create_app
from hubs.config import PUBLIC_SECRET_KEYS, InsecureConfig, load_config
from hubs.sse.session_cookie import SessionReader
from tests.sse.test_server import session_cookie


def test_defaults_are_every_uppercase_setting(monkeypatch, tmp_path):
    monkeypatch.delenv("HUBS_CONFIG", raising=False)
    config = load_config({"VAR_DIR": str(tmp_path)})
    assert config["CACHE_BACKEND"] == "dogpile.cache.dbm"
    assert config["DATABASE_URL"].startswith("sqlite:///")
    assert set(config) == {name for name in vars(default_config) if name.isupper()}


def test_file_named_by_environment_overrides_defaults(monkeypatch, tmp_path):
    path = tmp_path / "site.py"
    path.write_text("SITE_NAME = 'Hubs at home'\nCACHE_EXPIRATION = 5\nlowercase = 'ignored'\n")
    monkeypatch.setenv("HUBS_CONFIG", str(path))
    config = load_config({"CACHE_EXPIRATION": 7})
    assert config["SITE_NAME"] == "Hubs at home"
    assert config["CACHE_EXPIRATION"] == 7  # the dict wins over the file
    assert "lowercase" not in config


def test_missing_config_file_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HUBS_CONFIG", str(tmp_path / "nope.py"))
    with pytest.raises(RuntimeError, match=r"HUBS_CONFIG names .*nope\.py"):
        load_config()


def test_every_default_setting_is_commented():
    with open(default_config.__file__) as handle:
        source = handle.read().splitlines()
    for number, line in enumerate(source):
        if line and line[0].isupper() and "=" in line and not line.startswith("_"):
            assert source[number - 1].startswith("#"), f"{line!r} has no comment above it"


@pytest.mark.parametrize("key", [*sorted(PUBLIC_SECRET_KEYS), "", "   ", 42])
def test_a_published_or_empty_secret_key_is_refused(tmp_path, key):
    with pytest.raises(InsecureConfig, match="SECRET_KEY is"):
        create_app({"SECRET_KEY": key, "VAR_DIR": str(tmp_path)})
    with pytest.raises(InsecureConfig):
        load_config({"SECRET_KEY": key, "VAR_DIR": str(tmp_path)})  # as hubs-sse reads it


def test_the_example_production_config_is_refused_until_its_secret_is_set(monkeypatch):
    from tests.test_examples import EXAMPLES

    monkeypatch.setenv("HUBS_CONFIG", str(EXAMPLES / "production-config.py"))
    with pytest.raises(InsecureConfig, match="a published example"):
        load_config()


def test_unset_the_key_is_made_once_at_random_and_shared(tmp_path):
    one = load_config({"VAR_DIR": str(tmp_path)})["SECRET_KEY"]
    other = load_config({"VAR_DIR": str(tmp_path)})["SECRET_KEY"]
    elsewhere = load_config({"VAR_DIR": str(tmp_path / "elsewhere")})["SECRET_KEY"]
    assert one == other != elsewhere and len(one) == 64
    assert (tmp_path / "secret-key").stat().st_mode & 0o777 == 0o600
    assert one not in PUBLIC_SECRET_KEYS


def test_a_cookie_signed_with_the_old_default_opens_nothing(app_config, tmp_path):
    config = {**app_config, "SECRET_KEY": None, "VAR_DIR": str(tmp_path)}
    app = create_app(config)
    forged = session_cookie("nirik", secret="change-me-in-production")
    genuine = session_cookie("nirik", secret=app.config["SECRET_KEY"])
    reader = SessionReader(load_config(config), {"nirik": 0}.get)  # hubs-sse, same machine
    assert reader.username({"session": forged}) is None
    assert reader.username({"session": genuine}) == "nirik"
