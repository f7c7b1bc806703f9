"""The provisioning in ansible/: the playbook parses, ansible-lint passes with the
repository's .ansible-lint (production profile, offline), the role installs a systemd
unit for each of Hubs' four processes, and those units and the settings file it writes
are valid once rendered with the role's defaults."""

from __future__ import annotations

import configparser
import getpass
import grp
import json
import os
import runpy
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest
import yaml

from hubs import default_config

ROOT = Path(__file__).resolve().parents[1]
PLAYBOOK = ROOT / "ansible" / "vagrant-playbook.yml"
ROLE = ROOT / "ansible" / "roles" / "hubs_dev"
# The ansible tools come with the test requirements, in this interpreter's environment.
BIN = Path(sys.executable).parent
VENV = BIN.parent

# Each process of the Procfile, by the systemd unit that runs it, and its command.
UNITS = {
    "hubs-web": ["gunicorn", "hubs.wsgi:app"],
    "fedmsg-relay": ["fedmsg-relay"],
    "fedmsg-hub": ["fedmsg-hub"],
    "hubs-sse": ["hubs-sse"],
}


def run_tool(name: str, *args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """Run one of the environment's ansible tools from the repository's top folder,
    with its state (ANSIBLE_HOME) in ``tmp_path`` and no colours."""
    env = {
        **os.environ,
        # ansible-lint warns when its own folder is not on PATH.
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [str(BIN / name), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def output(result: subprocess.CompletedProcess) -> str:
    return (
        f"exit code {result.returncode}\n"
        f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    )


def load_yaml(path: Path):
    with path.open() as handle:
        return yaml.safe_load(handle)


def role_defaults(**overrides) -> dict:
    """The role's defaults/main.yml with their own templates resolved, as Ansible
    would (a default may refer to another: hubs_dev_group is "{{ hubs_dev_user }}")."""
    values = {**load_yaml(ROLE / "defaults" / "main.yml"), **overrides}
    environment = jinja_environment()
    for _ in range(10):
        resolved = {
            key: environment.from_string(value).render(values) if isinstance(value, str) else value
            for key, value in values.items()
        }
        if resolved == values:
            return resolved
        values = resolved
    raise AssertionError(f"the role's defaults do not resolve: {values}")


def _bool(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on", "y", "t"}
    return bool(value)


def jinja_environment() -> jinja2.Environment:
    """Jinja2 with the Ansible filters the role's templates use."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(ROLE / "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    environment.filters.update(to_json=json.dumps, bool=_bool, quote=shlex.quote)
    return environment


def render(template: str, values: dict) -> str:
    context = {"ansible_managed": "Ansible managed", **values}
    return jinja_environment().get_template(template).render(context)


def parse_unit(text: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(interpolation=None, strict=True)
    unit.optionxform = str  # systemd's keys are case-sensitive
    unit.read_string(text)
    return unit


def test_playbook_syntax_check(tmp_path):
    result = run_tool(
        "ansible-playbook", "--syntax-check", str(PLAYBOOK.relative_to(ROOT)), "-i", "localhost,",
        tmp_path=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, output(result)


def test_ansible_lint_passes_on_the_production_profile(tmp_path):
    had_cache = (ROOT / ".ansible").exists()
    result = run_tool("ansible-lint", tmp_path=tmp_path)
    assert result.returncode == 0, output(result)
    # The repository's .ansible-lint was read: it asks for the production profile.
    assert "'production'" in result.stdout + result.stderr, output(result)
    # ansible-lint keeps its cache in ANSIBLE_HOME, not in the repository.
    assert had_cache or not (ROOT / ".ansible").exists()


def test_the_role_installs_a_unit_for_each_process():
    defaults = role_defaults()
    assert sorted(defaults["hubs_dev_services"]) == sorted(UNITS)
    tasks = load_yaml(ROLE / "tasks" / "main.yml")

    def tasks_using(module: str) -> list[dict]:
        return [task for task in tasks if module in task]

    installs = [
        task
        for task in tasks_using("ansible.builtin.template")
        if task["ansible.builtin.template"]["dest"].startswith("/etc/systemd/system/")
    ]
    assert len(installs) == 1, installs
    install = installs[0]
    assert install["loop"] == "{{ hubs_dev_services }}"
    assert install["ansible.builtin.template"]["src"] == "{{ item }}.service.j2"
    assert "Reload systemd" in install["notify"]
    for name, command in UNITS.items():
        unit = parse_unit(render(f"{name}.service.j2", defaults))
        assert shlex.split(unit["Service"]["ExecStart"])[0] == (
            f"{defaults['hubs_dev_venv_dir']}/bin/{command[0]}"
        )
        assert all(word in unit["Service"]["ExecStart"] for word in command)
    # ...and enables and starts every one of them.
    starts = [
        task
        for task in tasks_using("ansible.builtin.systemd_service")
        if task.get("loop") == "{{ hubs_dev_services }}"
    ]
    assert len(starts) == 1, starts
    start = starts[0]["ansible.builtin.systemd_service"]
    assert start["enabled"] == "{{ hubs_dev_services_enabled }}"
    assert start["state"] == "{{ hubs_dev_services_state }}"
    assert defaults["hubs_dev_services_enabled"] is True
    assert defaults["hubs_dev_services_state"] == "started"
    handlers = {handler["name"]: handler for handler in load_yaml(ROLE / "handlers" / "main.yml")}
    assert handlers["Reload systemd"]["ansible.builtin.systemd_service"]["daemon_reload"] is True


@pytest.mark.parametrize("name", sorted(UNITS))
def test_unit_is_valid(name, tmp_path):
    defaults = role_defaults()
    unit = parse_unit(render(f"{name}.service.j2", defaults))
    assert unit["Unit"]["Description"].strip()
    service = unit["Service"]
    assert shlex.split(service["ExecStart"])[0].startswith(f"{defaults['hubs_dev_venv_dir']}/bin/")
    assert service["User"] == defaults["hubs_dev_user"] == "vagrant"
    assert service["Group"] == defaults["hubs_dev_group"]
    assert service["Restart"] in {"on-failure", "always"}
    assert service["Environment"] == f"HUBS_CONFIG={defaults['hubs_dev_config_file']}"
    assert service["WorkingDirectory"] == defaults["hubs_dev_state_dir"]
    assert unit["Install"]["WantedBy"] == "multi-user.target"

    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is missing: `make test` installs it (package systemd)")
    # systemd's own check, with paths and an account that exist here: it refuses a unit
    # whose executables are missing.
    here = local_defaults(tmp_path)
    verify_unit(tmp_path / f"{name}.service", render(f"{name}.service.j2", here))


def local_defaults(tmp_path) -> dict:
    """The role's defaults with paths and an account that exist on this machine."""
    return role_defaults(
        hubs_dev_venv_dir=str(VENV),
        hubs_dev_src_dir=str(ROOT),
        hubs_dev_state_dir=str(tmp_path),
        hubs_dev_config_dir=str(tmp_path),
        hubs_dev_user=getpass.getuser(),
        hubs_dev_group=grp.getgrgid(os.getgid()).gr_name,
    )


def verify_unit(path, text: str) -> None:
    """systemd's own check of a unit (it refuses one whose executables are missing)."""
    path.write_text(text)
    result = subprocess.run(
        ["systemd-analyze", "verify", str(path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, output(result)
    # Warnings (unknown keys, bad values) do not change the exit code.
    assert path.name not in result.stdout + result.stderr, output(result)


def test_settings_file_is_python_with_known_settings(tmp_path):
    defaults = role_defaults()
    path = tmp_path / "config.py"
    path.write_text(render("config.py.j2", defaults))
    settings = {key: value for key, value in runpy.run_path(str(path)).items() if key.isupper()}
    assert set(settings) <= set(vars(default_config)), "settings unknown to hubs"
    assert settings["DATABASE_URL"] == (
        "postgresql://hubs:hubs-development-password@127.0.0.1:5432/hubs"
    )
    assert settings["CACHE_BACKEND"] == "dogpile.cache.memcached"
    assert settings["CACHE_ARGUMENTS"]["url"] == ["127.0.0.1:11211"]
    assert "SECRET_KEY" not in settings  # unset: made at random in VAR_DIR
    vaulted = render("config.py.j2", {**defaults, "hubs_dev_secret_key": "from-the-vault"})
    assert 'SECRET_KEY = "from-the-vault"' in vaulted
    assert settings["SSE_URL"] == "http://localhost:8080/stream"
    assert settings["SESSION_COOKIE_SECURE"] is False
    assert settings["VAR_DIR"] == defaults["hubs_dev_state_dir"]
