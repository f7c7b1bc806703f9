"""Fedora Hubs: a page of live widgets for every Fedora contributor and team."""
