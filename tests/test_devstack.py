"""The development stack: `fedora-hubs run` starts every process of the Procfile for
real, and one process dying leaves the others running while it is restarted."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading

import pytest
import requests

from hubs import devstack
from tests.stack import BIN, ROOT, SERVICE_URLS, accepts, free_port, wait_for

# The ports of the Procfile's processes, as `make run` uses them.
STACK_PORTS = {"web": 5000, "sse": 8080, "oidc": 9400, "relay in": 2003, "relay out": 4001}


def test_read_procfile_names_each_process(tmp_path):
    procfile = tmp_path / "Procfile"
    procfile.write_text("# the stack\nweb: python runserver.py\n\nsse: hubs-sse -v\n")
    assert devstack.read_procfile(procfile) == {"web": "python runserver.py", "sse": "hubs-sse -v"}
    procfile.write_text("web python runserver.py\n")
    with pytest.raises(ValueError, match="Procfile:1: expected 'name: command'"):
        devstack.read_procfile(procfile)


def test_the_repository_procfile_has_every_process():
    names = set(devstack.read_procfile(ROOT / "Procfile"))
    assert names == {"web", "relay", "backend", "sse", "oidc"}


def test_environment_puts_this_venv_first_and_drops_flasks_cli_flag():
    env = devstack.stack_environment(
        "/venv/bin", {"PATH": "/usr/bin:/venv/bin:/bin", "FLASK_RUN_FROM_CLI": "true"}
    )
    assert env["PATH"] == "/venv/bin:/usr/bin:/bin"
    assert "FLASK_RUN_FROM_CLI" not in env


class Output(io.StringIO):
    """What the supervisor prints, readable while it runs."""

    def lines(self) -> list[str]:
        return self.getvalue().splitlines()

    def has(self, text: str) -> bool:
        return any(text in line for line in self.lines())

    def said(self, name: str, text: str) -> list[str]:
        """What process ``name`` (or the supervisor about it) printed containing ``text``."""
        said = []
        for line in self.lines():
            prefix, sep, rest = line.partition(" | ")
            if sep and prefix.split()[-1] == name and text in rest:
                said.append(rest)
        return said


@pytest.fixture
def supervise(tmp_path):
    """Run a Supervisor over some processes in a thread; stop it at the end."""
    running = []

    def start(processes: dict[str, str]):
        out = Output()
        env = devstack.stack_environment(str(BIN))
        supervisor = devstack.Supervisor(processes, tmp_path, env, out=out, first_delay=0.2)
        thread = threading.Thread(target=supervisor.run, kwargs={"poll": 0.05}, daemon=True)
        thread.start()
        running.append((supervisor, thread))
        return supervisor, out

    yield start
    for supervisor, thread in running:
        supervisor.stop()
        thread.join(timeout=30)
        assert not thread.is_alive()


def _pid(supervisor, name: str) -> int | None:
    (process,) = [p for p in supervisor.processes if p.name == name]
    return process.popen.pid if process.popen is not None else None


def test_a_dead_process_is_restarted_and_the_others_run_on(supervise, tmp_path):
    marker = tmp_path / "ticks"
    supervisor, out = supervise(
        {
            "steady": f"{sys.executable} -c 'import signal; signal.pause()'",
            "flaky": f"echo run >> {marker}; echo flaky says hello; exit 3",
        }
    )
    steady = wait_for(lambda: _pid(supervisor, "steady"), 10, "steady to start")
    wait_for(lambda: marker.exists() and len(marker.read_text().split()) >= 3, 20, "3 runs")
    assert out.said("flaky", "flaky says hello")
    assert out.said("flaky", "exited with code 3")
    assert out.said("flaky", "the other processes run on")
    # It kept failing, so it waits longer each time.
    restarts = out.said("flaky", "restarting in")
    assert "restarting in 0.2 s (restart 1)" in restarts[0]
    assert "restarting in 0.4 s (restart 2)" in restarts[1]
    assert _pid(supervisor, "steady") == steady
    os.kill(steady, 0)  # still alive


def test_a_program_its_shell_left_running_is_ended_before_the_restart(supervise, tmp_path):
    """Found killing the `sh -c fedmsg-hub` of `make run`: fedmsg-hub ran on, orphaned,
    holding its events port, and the restarted one failed to bind it (EADDRINUSE)."""
    pids = tmp_path / "pids"
    program = f"{sys.executable} -c 'import signal; signal.pause()'"
    _supervisor, out = supervise({"backend": f"{program} & echo $! >> {pids}; exit 3"})
    wait_for(lambda: pids.exists() and len(pids.read_text().split()) >= 2, 20, "a restart")
    first = int(pids.read_text().split()[0])
    assert out.said("backend", "still runs: ending it")
    wait_for(lambda: _state(first) in ("Z", None), 10, "the first program to end")


def test_stop_ends_every_process_group(supervise):
    supervisor, out = supervise(
        {"parent": f"{sys.executable} -c 'import signal; signal.pause()' & wait"}
    )
    wait_for(lambda: _pid(supervisor, "parent"), 10, "the process to start")
    group = _pid(supervisor, "parent")
    wait_for(lambda: len(_group_members(group)) >= 2, 10, "the shell and its child")
    supervisor.stop()
    wait_for(lambda: out.said("parent", "stopping"), 10, "the supervisor to stop it")
    wait_for(lambda: not _group_members(group), 15, "the whole group to end")


def _group_members(group: int) -> list[int]:
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getpgid(int(entry)) == group:
                    members.append(int(entry))
            except ProcessLookupError:
                continue
    # Zombies are gone as far as anyone using the port is concerned.
    return [pid for pid in members if _state(pid) not in ("Z", None)]


def _state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


# -- the real thing ----------------------------------------------------------------------


@pytest.fixture
def demo_site(tmp_path):
    """populate.py run on an embedded database in tmp_path, every service unreachable."""
    busy = [f"{name} ({port})" for name, port in STACK_PORTS.items() if accepts(port)]
    if busy:
        pytest.fail(
            f"`fedora-hubs run` needs the ports of `make run`, and these are taken: "
            f"{', '.join(busy)}. Stop the other stack (make run?) and run the tests again."
        )
    dead = f"http://127.0.0.1:{free_port()}/"
    config = tmp_path / "config.py"
    config.write_text("".join(f"{name} = {dead!r}\n" for name in SERVICE_URLS))
    env = {"HUBS_CONFIG": str(config), "HUBS_VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "populate.py", "--no-cache"],
        env=env, cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return env


def test_fedora_hubs_run_serves_the_demo_and_survives_a_dead_sse(demo_site):
    out = Output()
    # As an operator would type it: the venv's script, the venv not activated.
    stack = subprocess.Popen(
        [str(BIN / "fedora-hubs"), "run"],
        env=demo_site, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    reader = threading.Thread(target=lambda: [out.write(line) for line in stack.stdout])
    reader.start()
    try:
        page = wait_for(lambda: _get("http://127.0.0.1:5000/t/infrastructure/"), 90, "the web app")
        assert page.status_code == 200
        assert 'data-plugin="feed"' in page.text
        assert not out.has("not found") and not out.has("Ignoring a call to 'app.run()'")
        wait_for(lambda: accepts(STACK_PORTS["sse"]), 60, "hubs-sse")

        (started,) = out.said("sse", "started with pid")
        sse = int(started.split("started with pid ")[1].split(":")[0])
        os.killpg(sse, signal.SIGKILL)
        wait_for(lambda: out.said("sse", "exited with code"), 20, "the death to be reported")
        assert stack.poll() is None
        assert _get("http://127.0.0.1:5000/t/infrastructure/").status_code == 200
        wait_for(lambda: len(out.said("sse", "started with pid")) == 2, 30, "a new hubs-sse")
        wait_for(lambda: accepts(STACK_PORTS["sse"]), 60, "hubs-sse to listen again")
        assert _get("http://127.0.0.1:5000/u/ralph/").status_code == 200
    finally:
        stack.send_signal(signal.SIGINT)
        code = stack.wait(timeout=60)
        reader.join(timeout=10)
        stack.stdout.close()
    assert code == 0, out.getvalue()
    for name, port in STACK_PORTS.items():
        assert not accepts(port), f"{name} still listens on {port} after Ctrl-C"


def _get(url: str):
    try:
        return requests.get(url, timeout=5)
    except requests.RequestException:
        return None
