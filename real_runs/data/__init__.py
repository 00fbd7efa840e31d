"""Bundled question sets (see SOURCES.md and the LICENSE files here)."""
