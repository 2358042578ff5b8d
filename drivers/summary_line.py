"""The national card-reader interface's `iReadCardBas` line, which integrators compare with their real reader's.

region | certno | card no | card sn | name | ATR historical bytes | version |
issue date | expiry date | terminal no | device no |   -- always 11 fields, trailing '|'.
"""

from __future__ import annotations

from drivers.atr import historical_bytes
from drivers.card_data import CardInfo, Holder
from drivers.codecs import compact_date

FIELDS = ("region", "certno", "card_no", "card_sn", "name", "atr_hist", "version",
          "issue_date", "expiry_date", "terminal_no", "device_no")


def build_line(atr: bytes, card: CardInfo, holder: Holder, terminal_no: str = "", device_no: str = "") -> str:
    values = [
        card.region,
        holder.certno,
        card.card_no,
        card.card_sn.upper(),
        holder.name,
        historical_bytes(atr).hex().upper(),
        card.version,
        compact_date(card.issue_date),
        compact_date(card.expiry_date),
        terminal_no,
        device_no,
    ]
    return "|".join(v.replace("|", "") for v in values) + "|"


def parse_line(line: str) -> dict[str, str]:
    """Split a line (ours or a real reader's) into named fields for comparison."""
    parts = line.rstrip("\r\n").split("|")
    if parts and parts[-1] == "":
        parts = parts[:-1]
    parts += [""] * (len(FIELDS) - len(parts))
    return dict(zip(FIELDS, parts))
