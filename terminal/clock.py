"""The window's one clock: every timestamp it writes is local time with its UTC offset.

Why local: the hospital's day is local. A settlement's `setl_date`, the same-day rule of a reversal and
the day-end count all turn on the local date; a stamp in UTC would put an evening settlement on the next
(or previous) day beside its own audit row. Why the offset: the stamp still names one instant, whatever
the zone of the machine that reads it. docs/operations.md ("Time") says the same for operators.

Callers that take `now` (settlement, reversal, binding) pass it down, so a test injects the clock by
passing a datetime; a naive datetime is taken as local wall-clock time.
"""

from __future__ import annotations

from datetime import datetime


def now() -> datetime:
    """This instant as local time, aware of its UTC offset (stamped to the second by `stamp`)."""
    return datetime.now().astimezone()


def local(at: datetime | None = None) -> datetime:
    """`at` (default: now) as aware local time; a naive `at` is read as local wall-clock time."""
    return now() if at is None else at.astimezone()


def stamp(at: datetime | None = None) -> str:
    """The stored form of an instant: ISO 8601, local, with offset ('2026-12-02T23:59:50+08:00')."""
    return local(at).isoformat(timespec="seconds")


def day(at: datetime | None = None) -> str:
    """The local date of an instant ('2026-12-02'): the settlement day, the day-end day."""
    return local(at).date().isoformat()


def shown(stored: str) -> str:
    """A stored stamp as the slip and the screens print it: 'YYYY-MM-DD HH:MM:SS', local, no offset."""
    return stored[:19].replace("T", " ")
