"""The backend daemon: store each bus message, find the widgets it may concern through
the hint index, check only those, rebuild the stale ones and publish them."""
