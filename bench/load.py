#!/usr/bin/env python
"""The hub page under load: gunicorn with 2 sync workers, driven by wrk (a separate
process) with 10 and then 100 concurrent clients, against the trivial route of the same
app in the same run. Prints requests/s, p50 and p99 of each, and the page's throughput
as a share of the trivial route's.

The hub is bench/page.py's: 10 cached widgets, 20 people, SQLite, the widget cache in
memcached (--memcached) or a dbm file."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

from page import PAGE, TRIVIAL, flush_memcached, seed, start_gunicorn, write_config  # noqa: E402

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(url: str, clients: int, seconds: int) -> dict[str, float]:
    """One wrk run: requests/s, p50 and p99 in ms, and the answers that were not 2xx."""
    output = subprocess.run(
        ["wrk", "-t", "2", "-c", str(clients), "-d", f"{seconds}s", "--latency", url],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}
    for label, percentile in (("p50", "50%"), ("p99", "99%")):
        value, unit = re.search(rf"^\s+{percentile}\s+([\d.]+)(us|ms|s)\s*$", output, re.M).groups()
        figures[label] = float(value) * UNITS[unit]
    failed = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    figures["bad"] = int(failed.group(1)) if failed else 0
    if figures["bad"] or errors:
        sys.exit(f"{url}: {figures['bad']} bad answers; {errors.group(0) if errors else ''}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memcached", help="HOST:PORT of memcached (default: a dbm file)")
    parser.add_argument("--clients", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (scripts/install-system-packages wrk)")
    with tempfile.TemporaryDirectory() as workdir:
        if args.memcached:
            flush_memcached(args.memcached)
        config_path = write_config(args, workdir)
        seed(config_path)
        process, port = start_gunicorn(config_path, workers=args.workers)
        try:
            base = f"http://127.0.0.1:{port}"
            wrk(base + PAGE, 10, 2)  # warm every worker up
            cache = f"memcached {args.memcached}" if args.memcached else "dbm file"
            print(f"gunicorn -w {args.workers}, wrk -t 2, {args.seconds} s a run; cache: {cache}")
            print(f"{'clients':>7}  {'route':<22} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
            for clients in args.clients:
                trivial = wrk(base + TRIVIAL, clients, args.seconds)
                page = wrk(base + PAGE, clients, args.seconds)
                for label, figures in (("trivial route", trivial), ("hub page, 10 widgets", page)):
                    print(
                        f"{clients:7d}  {label:<22} {figures['rps']:8.0f} "
                        f"{figures['p50']:8.2f} {figures['p99']:8.2f}"
                    )
                print(
                    f"{clients:7d}  hub page throughput = {page['rps'] / trivial['rps']:.2f} of "
                    f"the trivial route's (cost {trivial['rps'] / page['rps']:.2f}x)",
                    flush=True,
                )
        finally:
            process.terminate()
            process.wait()


if __name__ == "__main__":
    main()
