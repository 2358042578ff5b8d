"""Pooling areas (统筹区) and whether cross-province mutual aid is open there (docs/data-and-rules.md).

The bundled list is data (terminal/data/regions.jsonl, centre-export `region` lines, importable
with `cashier db import`): the 31 first-batch areas with GB/T 2260 codes plus the demo's other areas.
A province-level pooling area (省本级) carries its province's GB/T 2260 code (510000, 130000);
the national platform's own area codes may differ, which is why this is editable data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "regions.jsonl"


@dataclass(frozen=True)
class Region:
    admdvs: str
    name: str
    province: str
    cross_province: bool  # cross-province mutual aid open in this pooling area


def province_code(admdvs: str) -> str:
    """The GB/T 2260 province of an area code: its first two digits."""
    return (admdvs or "")[:2]


def bundled(path: Path = DATA) -> list[Region]:
    """The regions shipped with the terminal."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            out.append(Region(d["admdvs"], d["name"], d.get("province") or "", bool(d["cross_province"])))
    return out


def first_batch(path: Path = DATA) -> list[str]:
    """Codes of the 31 first-batch cross-province pooling areas."""
    return [json.loads(line)["admdvs"] for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and json.loads(line).get("first_batch")]
