"""Card state that outlives an insertion: PIN tries left, blocked, a changed PIN.

One JSON file per card (named by its card_sn) in the state folder, written
atomically (temp file + fsync + rename) so a crash never leaves half a file.
The PIN is never stored: only a salted PBKDF2 hash of it.

Several processes may play the same card at once (two `cashier card verify` runs, a
vpcd card side and the in-process demo): every change is a read-modify-write of the
file under an exclusive lock on a lock file beside it (`update`), so no try is ever
counted against a stale copy, and a card's first state is written only if no other
process wrote one first (`create`).
"""

from __future__ import annotations

import copy
import fcntl
import hashlib
import hmac
import json
import logging
import os
import re
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator, TypeVar

log = logging.getLogger("cashier.emulator")
T = TypeVar("T")

_ITERATIONS = 20_000
_SAFE = re.compile(r"[^0-9A-Za-z_.-]")
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def hash_pin(pin: str, salt: bytes) -> str:
    return hashlib.pbkdf2_hmac("sha256", pin.encode("ascii"), salt, _ITERATIONS).hex()


@dataclass
class PinState:
    """The card's PIN: a salted hash and its retry counter."""

    card_sn: str
    max_tries: int
    tries_left: int
    salt: str          # hex
    pin_hash: str      # hex of PBKDF2-SHA256(pin, salt)
    changed: bool = False

    @classmethod
    def fresh(cls, card_sn: str, pin: str, max_tries: int, tries_left: int | None = None) -> "PinState":
        salt = os.urandom(16)
        max_tries = max(1, min(max_tries, 15))  # 63 Cx has one nibble for the count
        left = max_tries if tries_left is None else max(0, min(tries_left, max_tries))
        return cls(card_sn, max_tries, left, salt.hex(), hash_pin(pin, salt))

    @property
    def blocked(self) -> bool:
        return self.tries_left <= 0

    def matches(self, pin: str) -> bool:
        return hmac.compare_digest(hash_pin(pin, bytes.fromhex(self.salt)), self.pin_hash)

    def set_pin(self, pin: str) -> None:
        salt = os.urandom(16)
        self.salt, self.pin_hash, self.changed = salt.hex(), hash_pin(pin, salt), True


class StateStore:
    """The state folder. `None` folder: state lives only in memory (one insertion)."""

    def __init__(self, folder: str | os.PathLike[str] | None) -> None:
        self.folder = Path(folder) if folder is not None else None

    def path(self, card_sn: str) -> Path | None:
        if self.folder is None:
            return None
        return self.folder / f"{_SAFE.sub('_', card_sn)}.json"

    def load(self, card_sn: str) -> PinState | None:
        """The saved state of a card, or None (first insertion, or an unreadable file)."""
        path = self.path(card_sn)
        if path is None or not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            state = PinState(**{k: data[k] for k in PinState.__dataclass_fields__ if k in data})
            bytes.fromhex(state.salt)
            return state
        except (OSError, ValueError, TypeError, KeyError):
            return None  # a damaged state file: the card starts from its profile again

    def save(self, state: PinState) -> None:
        """Write the state as it is (under the card's lock): a deliberate reset or overwrite."""
        path = self.path(state.card_sn)
        if path is None:
            return
        with self._locked(state.card_sn):
            self._write(path, state)

    def create(self, state: PinState) -> PinState:
        """A card's first state: written unless another process saved one meanwhile, which then wins
        (returned). A folder that cannot be written keeps `state` in memory only."""
        path = self.path(state.card_sn)
        if path is None:
            return state
        try:
            with self._locked(state.card_sn):
                saved = self.load(state.card_sn)
                if saved is not None:
                    return saved
                self._write(path, state)
        except OSError as exc:
            log.warning("card state not saved: %s", exc)
        return state

    def update(self, current: PinState, change: Callable[[PinState], T]) -> tuple[PinState, T]:
        """Read-modify-write across processes: under the card's lock, re-read its saved state (`current`
        when there is none), apply `change` to it, and save it if it changed. Returns (state, change's
        result). The try a VERIFY counts is counted on the file, never on a copy another process outdated."""
        path = self.path(current.card_sn)
        if path is None:
            return current, change(current)
        try:
            with self._locked(current.card_sn):
                state = self.load(current.card_sn) or copy.deepcopy(current)
                before = asdict(state)
                result = change(state)
                if asdict(state) != before:
                    self._write(path, state)
                return state, result
        except OSError as exc:  # a read-only state folder must not break the card: this insertion only
            log.warning("card state not saved: %s", exc)
            return current, change(current)

    @contextmanager
    def _locked(self, card_sn: str) -> Iterator[None]:
        """This card's lock: a thread lock within the process, flock() on `.<card>.lock` across processes."""
        path = self.path(card_sn)
        assert path is not None
        with _lock_for(str(path)):
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path.with_name(f".{path.stem}.lock"), "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)   # released when the file closes (or the process dies)
                yield

    @staticmethod
    def _write(path: Path, state: PinState) -> None:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(asdict(state), fh, indent=1)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _lock_for(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())
