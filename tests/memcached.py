"""A memcached of a test's own, which it may stop, restart (empty) and start again."""

from __future__ import annotations

import subprocess

from tests.stack import accepts, free_port, wait_for


class Memcached:
    """One memcached process on a port of its own; ``options`` are more of its flags
    (``["-I", "1024"]``: items of 1 KiB at most)."""

    def __init__(self, options: tuple[str, ...] = (), dead_retry: float = 1) -> None:
        self.port = free_port()
        self.options = list(options)
        self.dead_retry = dead_retry
        self.process: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def config(self) -> dict:
        return {
            "CACHE_BACKEND": "dogpile.cache.memcached",
            "CACHE_ARGUMENTS": {
                "url": [self.url], "dead_retry": self.dead_retry, "socket_timeout": 1,
            },
        }  # fmt: skip

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["memcached", "-l", "127.0.0.1", "-p", str(self.port), "-m", "64", "-u", "nobody",
             *self.options]
        )  # fmt: skip
        process = self.process

        def listening() -> bool:
            if process.poll() is not None:  # refused its flags, say: no use waiting
                raise RuntimeError(f"memcached {self.options} exited with {process.returncode}")
            return accepts(self.port)

        wait_for(listening, 10, "memcached to start")

    def restart(self) -> None:
        self.stop()
        self.start()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None
