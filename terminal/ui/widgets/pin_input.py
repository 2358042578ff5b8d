"""The PIN box: digits only, masked, and it leaves every other key to the screen (Space on the payment
screen chooses an account even while the PIN box has the focus)."""

from __future__ import annotations

from textual.widgets import Input

from drivers.codecs import pin_block
from drivers.errors import CardError


class PinInput(Input):
    """An Input for a PIN. Textual drops a screen's key binding when the focused Input says it would
    consume the key; a PIN consumes digits only, so the screen's Space (and other printable keys) still work."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("password", True)
        kwargs.setdefault("max_length", 16)
        kwargs.setdefault("restrict", r"[0-9]*")
        # digits typed before the box had the focus are kept there: selecting them on focus would let the
        # next digit replace them
        kwargs.setdefault("select_on_focus", False)
        super().__init__(**kwargs)

    def check_consume_key(self, key: str, character: str | None) -> bool:
        return character is not None and character.isdigit()

    def card_takes(self) -> bool:
        """The PIN typed is one a card can hold (the card's rule: 4 to 16 digits). Checked before the card is
        asked: a PIN no card holds must not spend one of its tries, nor start a settlement."""
        try:
            pin_block(self.value)
        except CardError:
            return False
        return True
