#!/usr/bin/env python
"""Convergence under faults, longer than tests/integration/test_convergence.py: the real
stack on fedora-messaging (tests/chaos.py says what runs), SSE clients on five hubs, and
--messages corpus messages replayed while every fault is injected --rounds times at
random (hubs-sse killed, memcached restarted, PostgreSQL refusing connections, a backend
killed) among --edits web edits. A baseline run first makes the same edits without any
fault, so that the time to converge after the last fault has its ratio to a calm run.

It prints the faults injected, the messages stored exactly once against those sent, the
SSE reconnections and how long each page took to converge after the last fault."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.chaos import Chaos  # noqa: E402


def run(messages: int, edits: int, rounds: int, seed: int, label: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="hubs-chaos-") as workdir:
        chaos = Chaos(Path(workdir), seed)
        try:
            print(f"==> {label}: starting the stack…", flush=True)
            chaos.start()
            started = time.monotonic()
            print(f"    replaying {messages} messages, {edits} edits, "
                  f"{rounds * len(chaos.FAULTS)} faults…", flush=True)  # fmt: skip
            last_fault = chaos.replay(messages, edits, rounds)
            counts = chaos.all_stored_once()
            differences = chaos.converge(last_fault)
            alive = chaos.running()
            figures = chaos.figures
            for line in figures.lines():
                print(f"    {line}", flush=True)
            print(f"    replay took {time.monotonic() - started:.1f} s", flush=True)
            for hub, difference in sorted(differences.items()):
                print(f"    NOT CONVERGED {hub}: {str(difference)[:1500]}", flush=True)
            if not all(alive.values()):
                print(f"    PROCESSES DIED: {[n for n, up in alive.items() if not up]}")
            twice = sum(1 for n in counts.values() if n != 1)
            return {
                "slowest": max(figures.converged_after.values(), default=float("nan")),
                "ok": not differences and all(alive.values()) and not twice,
            }
        finally:
            chaos.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="times each fault is injected")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    calm = run(args.messages, args.edits, 0, args.seed, "baseline, no faults")
    chaos = run(args.messages, args.edits, args.rounds, args.seed, "with faults")
    print(f"\nslowest page to converge: {chaos['slowest']:.2f} s after the last fault, "
          f"{calm['slowest']:.2f} s after the last edit without faults "
          f"({chaos['slowest'] / calm['slowest']:.2f}x)")  # fmt: skip
    print("every page converged, every message stored once, no process died:",
          "yes" if calm["ok"] and chaos["ok"] else "NO")  # fmt: skip
    sys.exit(0 if calm["ok"] and chaos["ok"] else 1)


if __name__ == "__main__":
    main()
