#!/usr/bin/env python
"""Create the schema if needed and add the demo users and hubs (see hubs/seed.py)."""

import sys

from hubs.seed import main

if __name__ == "__main__":
    sys.exit(main())
