"""The development stack: every process of the Procfile, each restarted when it dies.

honcho stops everything when one process ends; a developer restarting hubs-sse, or a
backend crashing on a bad message, should not lose the web app with it. This runs each
line of the Procfile in its own process group, prefixes its output with its name,
restarts a process that exits (after a delay that grows while it keeps failing) and
says so, and stops them all on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

# A process that ran this long before it died is restarted at once, not after a delay.
HEALTHY_AFTER = 30.0
FIRST_DELAY = 1.0
LONGEST_DELAY = 30.0
STOP_GRACE = 10.0


def read_procfile(path: Path) -> dict[str, str]:
    """``name: command`` lines, in order (blank lines and comments skipped)."""
    processes = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, command = line.partition(":")
        if not sep or not name.strip() or not command.strip():
            raise ValueError(f"{path}:{number}: expected 'name: command', got {line!r}")
        processes[name.strip()] = command.strip()
    return processes


def stack_environment(bin_dir: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """The processes' environment: this virtualenv's commands first on PATH (so that
    ``.venv/bin/fedora-hubs run`` finds fedmsg-hub without an activated venv), and
    without the flag by which Flask's CLI makes ``app.run()`` a no-op in children."""
    env = dict(os.environ if base is None else base)
    env.pop("FLASK_RUN_FROM_CLI", None)
    path = [bin_dir, *(p for p in env.get("PATH", "").split(os.pathsep) if p and p != bin_dir)]
    env["PATH"] = os.pathsep.join(path)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Process:
    name: str
    command: str
    popen: subprocess.Popen | None = None
    started: float = 0.0
    restarts: int = 0
    delay: float = 0.0
    restart_at: float | None = None
    threads: list[threading.Thread] = field(default_factory=list)
    leftover: int | None = None  # the former group, told to end, if it still ran


def _group_alive(group: int) -> bool:
    """Whether any process of the process group ``group`` still runs."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Supervisor:
    def __init__(
        self,
        processes: dict[str, str],
        cwd: Path,
        env: dict[str, str],
        out=None,
        first_delay: float = FIRST_DELAY,
    ):
        self.first_delay = first_delay
        self.processes = [
            Process(name, command, delay=first_delay) for name, command in processes.items()
        ]
        self.cwd = cwd
        self.env = env
        self.out = out or sys.stdout
        self.width = max(len(name) for name in processes)
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def say(self, name: str, line: str) -> None:
        with self._lock:
            self.out.write(f"{time.strftime('%H:%M:%S')} {name:<{self.width}} | {line}\n")
            self.out.flush()

    def start(self, process: Process) -> None:
        process.popen = subprocess.Popen(
            process.command,
            shell=True,
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        process.started = time.monotonic()
        process.restart_at = None
        self.say(process.name, f"started with pid {process.popen.pid}: {process.command}")
        reader = threading.Thread(target=self._relay, args=(process, process.popen), daemon=True)
        reader.start()
        process.threads.append(reader)

    def _relay(self, process: Process, popen: subprocess.Popen) -> None:
        for raw in popen.stdout:
            self.say(process.name, raw.decode(errors="replace").rstrip())
        popen.stdout.close()

    def _reap(self, process: Process, now: float) -> None:
        code = process.popen.returncode
        ran = now - process.started
        # The command's shell may die and leave its program running (an orphan in its
        # group): a restart beside it would find its ports taken. End the group.
        group = process.popen.pid
        if _group_alive(group):
            self.say(process.name, f"its process group {group} still runs: ending it")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGTERM)
            process.leftover = group
        if ran >= HEALTHY_AFTER:
            process.delay = self.first_delay
        process.restarts += 1
        process.restart_at = now + process.delay
        self.say(
            process.name,
            f"exited with code {code} after {ran:.1f} s; restarting in {process.delay:.1f} s "
            f"(restart {process.restarts}); the other processes run on",
        )
        process.delay = min(process.delay * 2, LONGEST_DELAY)
        process.popen = None

    def run(self, poll: float = 0.2) -> int:
        """Start everything and keep it running until stop() (or a signal)."""
        for process in self.processes:
            self.start(process)
        while not self._stopping.wait(poll):
            now = time.monotonic()
            for process in self.processes:
                if process.popen is not None and process.popen.poll() is not None:
                    self._reap(process, now)
                due = process.restart_at is not None and now >= process.restart_at
                if process.popen is None and due and not self._stopping.is_set():
                    self._end_leftover(process)
                    self.start(process)
        self._stop_all()
        return 0

    def _end_leftover(self, process: Process) -> None:
        """Kill what is left of the process's former group, if SIGTERM did not end it."""
        if process.leftover is not None and _group_alive(process.leftover):
            self.say(process.name, f"process group {process.leftover} still runs: killed")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.leftover, signal.SIGKILL)
        process.leftover = None

    def stop(self, *_signal_args) -> None:
        self._stopping.set()

    def _stop_all(self) -> None:
        for process in self.processes:
            self._end_leftover(process)
        running = [p for p in self.processes if p.popen is not None and p.popen.poll() is None]
        for process in running:
            self.say(process.name, "stopping")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.popen.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for process in running:
            try:
                process.popen.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(process.name, f"still running after {STOP_GRACE:.0f} s: killed")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.popen.pid, signal.SIGKILL)
                process.popen.wait()
        for process in self.processes:
            for thread in process.threads:
                thread.join(timeout=1)


def main(procfile: Path, cwd: Path) -> int:
    supervisor = Supervisor(
        read_procfile(procfile), cwd, stack_environment(os.path.dirname(sys.executable))
    )
    signal.signal(signal.SIGTERM, supervisor.stop)
    signal.signal(signal.SIGINT, supervisor.stop)
    return supervisor.run()
