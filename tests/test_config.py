import subprocess
import sys

import pytest

from hubs import default_config
from hubs.app import create_app
from hubs.config import PUBLIC_SECRET_KEYS, InsecureConfig, NotForProduction, load_config
from hubs.i18n import current_locale
from hubs.sse.session_cookie import SessionReader
from tests.sse.test_server import session_cookie
from tests.stack import BIN, ROOT, free_port


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


LOCAL_SITE = {"SITE_URL": "http://localhost:5000", "OIDC_ISSUER": "http://127.0.0.1:9400"}


@pytest.mark.parametrize(
    "site",
    [
        {"SITE_URL": "https://hubs.fedoraproject.org"},
        {"OIDC_ISSUER": "https://id.fedoraproject.org"},
        {"SITE_URL": "http://hubs.example.org:5000"},
        {"SITE_URL": "http://10.0.0.5:5000"},
        {"SITE_URL": "not an address"},
    ],
)
def test_demo_mode_is_refused_outside_development(tmp_path, site):
    config = {**LOCAL_SITE, **site, "DEMO_MODE": True, "VAR_DIR": str(tmp_path)}
    with pytest.raises(NotForProduction, match="DEMO_MODE is on, but this is no development"):
        create_app(config)
    with pytest.raises(NotForProduction):
        load_config(config)  # as hubs-sse, populate and the backend read it
    load_config({**config, "DEMO_MODE": False})  # the same site without it starts


@pytest.mark.parametrize(
    "site_url",
    [
        "http://localhost:5000",
        "http://127.0.0.1:5000",
        "http://[::1]:5000/",
        "http://hubs.localhost",
    ],
)
def test_demo_mode_starts_on_a_development_site(tmp_path, site_url):
    config = {**LOCAL_SITE, "SITE_URL": site_url, "DEMO_MODE": True, "VAR_DIR": str(tmp_path)}
    assert load_config(config)["DEMO_MODE"] is True


def test_the_example_production_config_refuses_demo_mode(monkeypatch, tmp_path):
    from tests.test_examples import EXAMPLES

    monkeypatch.setenv("HUBS_CONFIG", str(EXAMPLES / "production-config.py"))
    secret = {"SECRET_KEY": "a site's own secret", "VAR_DIR": str(tmp_path)}
    assert load_config(secret)["DEMO_MODE"] is False  # off unless asked for
    with pytest.raises(NotForProduction, match=r"'https://hubs\.fedoraproject\.org'"):
        load_config({**secret, "DEMO_MODE": True})


def test_demo_mode_must_be_true_or_false(tmp_path):
    with pytest.raises(RuntimeError, match="DEMO_MODE is 'yes': it must be True or False"):
        load_config({"DEMO_MODE": "yes", "VAR_DIR": str(tmp_path)})


@pytest.mark.parametrize(("value", "on"), [("1", True), ("0", False), ("", False)])
def test_hubs_demo_mode_in_the_environment_turns_it_on(tmp_path, value, on):
    env = {"HUBS_DEMO_MODE": value, "HUBS_VAR_DIR": str(tmp_path), "PATH": ""}
    script = "from hubs.config import load_config; print(load_config()['DEMO_MODE'])"
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == str(on)


@pytest.mark.parametrize(
    "command",
    [[str(BIN / "hubs-sse"), "--port", "{port}"], [sys.executable, "populate.py", "--no-cache"]],
)
def test_a_production_site_with_hubs_demo_mode_does_not_start(tmp_path, command):
    config = tmp_path / "site.py"
    config.write_text(
        f"SECRET_KEY = 'own'\nSITE_URL = 'https://hubs.example.org'\n"
        f"DATABASE_URL = 'sqlite:///{tmp_path / 'hubs.db'}'\n"
    )
    env = {"HUBS_DEMO_MODE": "1", "HUBS_CONFIG": str(config), "HUBS_VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [part.format(port=free_port()) for part in command],
        env={**env, "PATH": ""}, cwd=ROOT, capture_output=True, text=True, check=False,
        timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "NotForProduction: DEMO_MODE is on" in result.stderr
    assert not (tmp_path / "hubs.db").exists()  # nothing was done


def test_languages_may_only_name_languages_with_a_catalog():
    with pytest.raises(RuntimeError, match="LANGUAGES names 'de', which has no compiled catalog"):
        create_app({"DATABASE_URL": "sqlite://", "DATABASE_CHECK_MIGRATED": False,
                    "LANGUAGES": ["en", "de"]})  # fmt: skip
    app = create_app({"DATABASE_URL": "sqlite://", "DATABASE_CHECK_MIGRATED": False,
                      "LANGUAGES": ["en", "fr"]})  # fmt: skip
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert current_locale() == "fr"
