"""Messages that carry card events and worker results back to the UI thread.

Card events arrive on a foreign thread (pyscard's monitor, the emulator) and are
posted with `app.post_message`; thread workers post their results the same way.
Widgets are only ever touched by the handlers of these messages, on the UI thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from textual.message import Message

from terminal.services.results import SettlementResult
from terminal.services.views import FamilyView, Split

if TYPE_CHECKING:   # the day end's reports and the bindings: never loaded by the kiosk
    from terminal.services.centre_reconcile import CentreReconcileReport
    from terminal.services.results import Unbound
    from terminal.store.people import Binding, Person


class CentreAnswered(Message, bubble=False):
    """The sign-in or a probe of the centre is done: the header shows the centre's state now, not at its next
    poll (a window that opens shows "connected" as soon as it is)."""


@dataclass
class CardInserted(Message, bubble=False):
    """A card went into the window's reader.

    Posted to the app, then re-posted to the active screen: it must not bubble back up.
    """

    reader: str = ""
    atr: bytes = b""


@dataclass
class CardRemoved(Message, bubble=False):
    """The card left the window's reader (not bubbling, like CardInserted)."""

    reader: str = ""


@dataclass
class PatientLoaded(Message):
    """The card was read and the person found: card read + family view."""

    card: Any                 # drivers.card_data.CardRead, or a VoucherRead (the e-voucher, the ID card)
    family: FamilyView
    places: dict[str, str] = field(default_factory=dict)   # region code -> name
    pin_tries_left: int | None = None   # the card's PIN counter (0: blocked); None when unknown


@dataclass
class WorkFailed(Message):
    """A worker failed with an error a cashier can read (code, message in the UI's language)."""

    action: str = ""
    code: str = ""
    message: str = ""
    tries_left: int | None = None   # a wrong PIN: the tries the card says are left
    token: int = 0                  # which question failed, when the screen numbers them (the split's)


@dataclass
class PreSettled(Message):
    """The pre-settlement split for the bill as it stands (nothing written)."""

    result: Split
    token: int = 0            # which edit of the bill it answers; older answers are dropped


@dataclass
class Settled(Message):
    """A settlement was committed; slip text and where it was saved."""

    result: SettlementResult
    slip_text: str = ""
    slip_path: str = ""


@dataclass
class TotalsLoaded(Message):
    """Today's totals for this window (reconciliation figures): this window's record beside the centre's 3201."""

    report: CentreReconcileReport


@dataclass
class SettlementsLoaded(Message):
    """Today's settlements for this window, and the names of the accounts' owners ({psn_no: name})."""

    rows: list[SettlementResult] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    day: str = ""                     # the day they are of, on the centre's clock


@dataclass
class Reversed(Message):
    """A settlement was reversed."""

    setl_id: str
    result: SettlementResult


@dataclass
class BindingsLoaded(Message):
    """The owner's bindings, each with its user (None when the user is not known here)."""

    owner: Person
    rows: list[tuple[Binding, Person | None]] = field(default_factory=list)


@dataclass
class BindingChanged(Message):
    """A binding was added or ended."""

    kind: str                 # "bound" | "unbound"
    name: str
    result: Binding | Unbound
