#!/usr/bin/env python
"""Create the schema if needed and add the demo users and hubs (see hubs/populate.py)."""

import sys

from hubs.populate import main

if __name__ == "__main__":
    sys.exit(main())
