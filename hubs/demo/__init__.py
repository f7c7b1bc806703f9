"""The demo data that ships with the package: populate reads it, and so do the tests and
benches, so that a clone anywhere has real bus messages (provenance in each folder's README)."""

from pathlib import Path

HERE = Path(__file__).resolve().parent

# 342 real fedmsg messages with what fedmsg.meta makes of them: fedmsg-corpus/README.md.
FEDMSG_CORPUS = HERE / "fedmsg-corpus" / "messages.jsonl"

# Made-up meetbot #help calls in the shape of real meetbot messages: README.md.
HELP_CALLS = HERE / "help-calls.jsonl"

# Demo mode's recorded answers of Fedora's web services: services/README.md.
SERVICE_RECORDINGS = HERE / "services"
