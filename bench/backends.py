#!/usr/bin/env python
"""End-to-end messages a second through 1, 2 and 4 backend processes sharing one
RabbitMQ queue: each message stored, triaged and its widgets rebuilt and pushed to
hubs-sse before it is acked (issue 15: 2 processes at least 1.6x one).

Each run has a fresh PostgreSQL database of the demo hubs, memcached, a RabbitMQ vhost
of its own and hubs-sse; the backends are `fedora-messaging consume` with the hubs
callback, all consuming before the first message is sent. The messages (both corpora,
repeated with new ids to reach --messages) are fedora-messaging Message objects sent as
fedora_messaging.api.publish puts them on the wire (routing key, properties, encoded
body), but with pika directly and without publisher confirms, so that the publisher is
never the bottleneck. The clock runs from the first message sent to the last one stored
with the queue empty."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import warnings  # noqa: E402

import memcache  # noqa: E402
import pika  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from fedora_messaging.message import load_message  # noqa: E402

from tests.amqp_cluster import QUEUE, Cluster, corpus_messages  # noqa: E402
from tests.stack import wait_for  # noqa: E402


def load(messages: list[dict]) -> list:
    """``messages`` as fedora-messaging Message objects (before the clock starts)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # deprecated schema classes
        return [load_message(m) for m in messages]


def send(cluster: Cluster, loaded: list) -> None:
    """Put ``loaded`` on amq.topic exactly as fedora-messaging would, at pika's pace."""
    connection = pika.BlockingConnection(pika.URLParameters(cluster.amqp_url))
    try:
        channel = connection.channel()
        for message in loaded:
            channel.basic_publish(
                "amq.topic",
                message._encoded_routing_key,
                message._encoded_body,
                message._properties,
            )
    finally:
        connection.close()


def machine_busy() -> float:
    """CPU seconds every core of the machine has spent busy since boot."""
    with open("/proc/stat") as handle:
        fields = [int(value) for value in handle.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """CPU seconds (user and system) the process ``pid`` has used."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_by_program() -> dict[str, float]:
    """CPU seconds used so far by the processes of each program (its command name) now
    alive, with what their exited children used (PostgreSQL's connections, say)."""
    found: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as handle:
                text = handle.read()
        except OSError:  # it exited meanwhile
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        used = sum(int(value) for value in fields[11:15]) / tick  # utime..cstime
        found[name] = found.get(name, 0.0) + used
    return found


def cache_operations(client: memcache.Client) -> dict[str, int]:
    """memcached's counts of the commands it served so far (gets, sets, ...)."""
    stats = dict(client.get_stats()[0][1])
    return (
        {name: int(stats[f"cmd_{name}"]) for name in ("get", "set", "touch", "flush")}
        | {
            name: int(stats[f"{name}_hits"]) + int(stats[f"{name}_misses"])
            for name in ("incr", "decr", "delete", "cas")
        }
        | {"add_or_set_items": int(stats["total_items"])}
    )


DATABASE_STATS = sa.text(
    "SELECT xact_commit + xact_rollback AS transactions, tup_returned AS rows_scanned,"
    " tup_fetched AS rows_fetched, tup_inserted AS rows_inserted, blks_hit AS pages_read"
    " FROM pg_stat_database WHERE datname = current_database()"
)
TABLE_SCANS = sa.text(
    "SELECT relname, seq_tup_read + coalesce(idx_tup_fetch, 0) FROM pg_stat_user_tables"
)


def database_work(engine) -> dict[str, int]:
    """PostgreSQL's counts of what it did so far in the bench's database: transactions,
    rows scanned and fetched, rows read by table ("read:messages")."""
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
        found = dict(connection.execute(DATABASE_STATS).mappings().one())
        found |= {f"read:{name}": int(rows) for name, rows in connection.execute(TABLE_SCANS)}
    return found


def run(backends: int, count: int, memcached: str) -> dict[str, float]:
    client = memcache.Client([memcached])
    client.flush_all()
    cache = {
        "CACHE_BACKEND": "dogpile.cache.memcached",
        "CACHE_ARGUMENTS": {"url": [memcached], "dead_retry": 1, "socket_timeout": 1},
    }
    with tempfile.TemporaryDirectory() as workdir:
        cluster = Cluster(Path(workdir), cache, database="hubs_bench_backends")
        try:
            cluster.start_sse()
            cluster.start_backends(*(f"b{n + 1}" for n in range(backends)))
            junk = tuple(cluster.app.config["BACKEND_JUNK_TOPICS"])
            sent = corpus_messages(count, cluster.run, junk, repeat=True)
            ids = [m["id"] for m in sent]
            loaded = load(sent)
            engine = sa.create_engine(cluster.config["DATABASE_URL"], isolation_level="AUTOCOMMIT")
            newest = sa.text("SELECT coalesce(max(id), 0) FROM messages")
            since = sa.text("SELECT count(*) FROM messages WHERE id > :id")
            with engine.connect() as connection:
                before = connection.scalar(newest)
            pids = [process.pid for process in cluster.processes.values()]
            start, busy = time.monotonic(), machine_busy()
            backend_cpu = sum(process_cpu(pid) for pid in pids if pid)
            programs = cpu_by_program()
            operations = cache_operations(client)
            database = database_work(engine)
            send(cluster, loaded)
            # While they flow, one cheap look a poll (a primary key range): the bench
            # should take as little of the cores as it can from what it measures.
            with engine.connect() as connection:
                wait_for(
                    lambda: connection.scalar(since, {"id": before}) >= count,
                    600,
                    "every message stored",
                    0.05,
                )
            wait_for(lambda: cluster.queue_state(QUEUE)[0] == 0, 60, "the queue empty", 0.05)
            elapsed = time.monotonic() - start
            busy = machine_busy() - busy
            backend_cpu = sum(process_cpu(pid) for pid in pids if pid) - backend_cpu
            after = cpu_by_program()
            operations = {
                name: (value - operations[name]) / count
                for name, value in cache_operations(client).items()
            }
            programs = {
                name: (after[name] - programs.get(name, 0.0)) / count * 1e3 for name in after
            }

            assert set(cluster.stored(ids).values()) == {1}, "a message stored twice"
            # The backends write their counters once a burst has settled.
            stats = wait_for(
                lambda: (
                    (s := cluster.stats())
                    and sum(v.get("stored", 0) for v in s.values()) == count
                    and s
                ),
                30,
                "the backends' counters",
            )
            result = {
                # CPU milliseconds a message costs in the backends, and everywhere else
                # (PostgreSQL, RabbitMQ, memcached, hubs-sse, this bench)
                "backend_ms": backend_cpu / count * 1e3,
                "other_ms": (busy - backend_cpu) / count * 1e3,
                "busy_cores": busy / elapsed,
                "seconds": elapsed,
                "rate": count / elapsed,
                "rebuilds": sum(s.get("rebuilds", 0) for s in stats.values()),
                "shares": sorted(s.get("stored", 0) for s in stats.values()),
                "cache_operations": operations,
                # CPU milliseconds a message, by program (the biggest ones)
                "programs": dict(sorted(programs.items(), key=lambda item: -item[1])[:6]),
            }
        finally:
            cluster.close()
            client.disconnect_all()
    # PostgreSQL counts a session's work when it ends (or now and then): read once the
    # backends and hubs-sse have stopped.
    result["database"] = {
        name: (value - database.get(name, 0)) / count
        for name, value in database_work(engine).items()
    }
    engine.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--backends", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--memcached", default="127.0.0.1:11211")
    args = parser.parse_args()
    results = {}
    for backends in args.backends:
        print(f"==> {backends} backend(s), {args.messages} messages…", flush=True)
        results[backends] = result = run(backends, args.messages, args.memcached)
        print(
            f"    {result['rate']:7.1f} msg/s ({result['seconds']:.1f} s, "
            f"{result['rebuilds']} rebuilds, stored per backend {result['shares']}); "
            f"CPU a message: {result['backend_ms']:.1f} ms in the backends, "
            f"{result['other_ms']:.1f} ms elsewhere; {result['busy_cores']:.2f} of "
            f"{os.cpu_count()} cores busy",
            flush=True,
        )
        print(
            "    CPU a message by program: "
            + ", ".join(f"{name} {ms:.1f} ms" for name, ms in result["programs"].items()),
            flush=True,
        )
        print(
            "    memcached commands a message: "
            + ", ".join(f"{name} {n:.1f}" for name, n in result["cache_operations"].items() if n),
            flush=True,
        )
        tables = {k: v for k, v in result["database"].items() if k.startswith("read:")}
        biggest = sorted(tables.items(), key=lambda item: -item[1])[:4]
        print(
            "    PostgreSQL a message: "
            + ", ".join(
                f"{name} {n:.1f}" for name, n in result["database"].items() if name not in tables
            )
            + "; rows read by table: "
            + ", ".join(f"{name[5:]} {n:.1f}" for name, n in biggest),
            flush=True,
        )
    base = results[args.backends[0]]["rate"]
    print("\nbackends  msg/s    ratio to", args.backends[0])
    for backends, result in results.items():
        print(f"{backends:8d}  {result['rate']:7.1f}  {result['rate'] / base:5.2f}x")
    if 1 in results and 2 in results:
        ratio = results[2]["rate"] / results[1]["rate"]
        print(f"\n2 backends / 1: {ratio:.2f}x (target >= 1.6x)")
        # All the backends together cannot go faster than the machine's cores allow for
        # the CPU a message costs, in the backends (b) and everywhere else (o): the
        # bound, against one backend's measured rate, and how busy the cores were.
        two = results[2]
        bound = os.cpu_count() / (two["backend_ms"] + two["other_ms"]) * 1e3
        print(
            f"CPU bound with 2 backends on this machine: {os.cpu_count()} cores / "
            f"(b {two['backend_ms']:.1f} + o {two['other_ms']:.1f} ms a message) = "
            f"{bound:.1f} msg/s, {bound / results[1]['rate']:.2f}x one backend; "
            f"{two['busy_cores']:.2f} cores were busy"
        )


if __name__ == "__main__":
    main()
