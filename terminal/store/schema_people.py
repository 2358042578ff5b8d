"""Placeholder until its owner lands the schema."""
from terminal.store.migrations import MIGRATIONS  # noqa: F401
