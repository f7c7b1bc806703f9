import pytest

from hubs import default_config
from hubs.config import load_config


def test_defaults_are_every_uppercase_setting(monkeypatch):
    monkeypatch.delenv("HUBS_CONFIG", raising=False)
    config = load_config()
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
