#!/usr/bin/env python
"""Run the Hubs development server on :5000 (gunicorn serves it in production)."""

import argparse
import os

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("-c", "--config", help="a Python config file (sets $HUBS_CONFIG)")
parser.add_argument("-H", "--host", default="127.0.0.1", help="address to listen on")
parser.add_argument("-p", "--port", type=int, default=5000, help="port to listen on")
parser.add_argument("--debug", action="store_true", help="reload on change, debugger on")
args = parser.parse_args()

if args.config:
    os.environ["HUBS_CONFIG"] = os.path.abspath(args.config)

from hubs.app import create_app  # noqa: E402 (reads $HUBS_CONFIG)

create_app().run(host=args.host, port=args.port, debug=args.debug, threaded=True)
