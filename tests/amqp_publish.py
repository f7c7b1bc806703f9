"""Publish bus messages on fedora-messaging with ``fedora_messaging.api.publish``, as any
Fedora application does: ``python -m tests.amqp_publish --conf X.toml messages.jsonl``.

Each line is a serialized fedora-messaging message (as ``load_message`` reads it). It
runs in a process of its own, so that the publishing reactor (crochet) stays out of the
tests' process. It prints one line of progress per hundred messages. Each publish waits
for the broker's confirm, so the messages flow over some seconds, as a real publisher's.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conf", required=True)
    parser.add_argument("messages")
    args = parser.parse_args()
    from fedora_messaging import api
    from fedora_messaging import config as fm_config
    from fedora_messaging.message import load_message

    fm_config.conf.load_config(args.conf)
    with open(args.messages) as handle:
        lines = [json.loads(line) for line in handle if line.strip()]
    for number, line in enumerate(lines, 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # deprecated schema classes
            message = load_message(line)
        api.publish(message)
        if number % 100 == 0 or number == len(lines):
            print(f"published {number}/{len(lines)}", flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
