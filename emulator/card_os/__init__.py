"""A small ISO 7816-4 card OS: file tree, INS dispatch table, PIN and authentication.

Importing the package registers every command handler in `card.DISPATCH`.
"""

from emulator.card_os import file_cmds, security_cmds  # noqa: F401  (register handlers)
from emulator.card_os.card import DISPATCH, Keys, Quirks, VirtualCard
from emulator.card_os.files import DF, RecordEF, TransparentEF

__all__ = ["VirtualCard", "Quirks", "Keys", "DISPATCH", "DF", "RecordEF", "TransparentEF"]
