"""A cashier window in its own process, settling random bills as fast as it can (concurrency and crash tests).

Usage: python settle_worker.py CONFIG WINDOW COUNT SEED
Prints `ready`, then `ack <request_id> <setl_id>` after each committed settlement (flushed: an ack
is what the cashier would have seen). Users and owners come from settle_data.CONTENTION.
"""

from __future__ import annotations

import random
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from settle_data import contention_patients  # noqa: E402
from terminal.config import load_config  # noqa: E402
from terminal.domain.bill import parse_bill  # noqa: E402
from terminal.errors import StoreError  # noqa: E402
from terminal.services.settlement import commit_settlement  # noqa: E402
from terminal.store.db import open_from_config  # noqa: E402


def main(config: str, window: str, count: int, seed: int) -> int:
    cfg = load_config(config)
    cfg = cfg.with_overrides(terminal=replace(cfg.terminal, window=window))
    db = open_from_config(cfg)
    rng = random.Random(seed)
    patients = contention_patients()
    print("ready", flush=True)
    for i in range(count):
        psn_no, owners = rng.choice(patients)
        relatives: str | list[str] = rng.choice(["auto", "none", owners, list(reversed(owners))]) if owners else "auto"
        bill = parse_bill({"med_type": rng.choice(["11", "21"]), "items": [
            {"code": f"X{k}", "name": "x", "category": "drug", "class": rng.choice("ABCC"),
             "qty": rng.choice([1, 2, "0.5"]), "price": rng.randint(100, 8000)} for k in range(rng.randint(1, 3))]})
        request_id = f"{window}-{seed}-{i}"
        try:
            result = commit_settlement(db, cfg, psn_no, bill, relatives=relatives, request_id=request_id)
        except StoreError as exc:     # a busy database is a refusal the cashier sees, never a half write
            print(f"busy {request_id} {exc.code}", flush=True)
            continue
        print(f"ack {request_id} {result.setl_id}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
