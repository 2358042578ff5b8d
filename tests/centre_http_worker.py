"""A cashier window in its own process settling against a served centre over HTTP (concurrency and crash tests).

Usage: python centre_http_worker.py URL INDEX COUNT SEED
Patients are 张伟 and the relatives whose bills his account pays (settle_data's family). For each visit it
sends 2201 → 2204 → 2207 and prints, flushed: `sent <msgid> <psn_no> <mdtrt_id>` before each 2207, then
`ack <msgid> <setl_id> <acct_pay>` for an answer with infcode 0, `refused <msgid> <code>` for -1, and
`lost <msgid>` when the connection fails (then it stops: the centre is gone). `ready` comes first.
"""

from __future__ import annotations

import itertools
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from centre.api import AnswerLost, CentreDown  # noqa: E402
from centre_flow import D, His  # noqa: E402
from centre_http_support import HttpCaller  # noqa: E402

PATIENTS = {"P10000001": ("310", "A10000001"), "P10000003": ("390", "A10000003"),
            "P10000004": ("390", "A10000004"), "P20000005": ("390", "B20000005")}


def main(url: str, index: int, count: int, seed: int) -> int:
    rng = random.Random(seed)
    caller = HttpCaller(url, timeout=60)
    window = His(caller)
    window.seq = itertools.count(index * 1000 + 1)           # msgids of different windows never collide
    insuplc = {}
    try:
        window.sign_in()
        for psn_no, (_insutype, card_no) in PATIENTS.items():
            insuplc[psn_no] = window.ok("X105", {"data": {"card_no": card_no}})["insuinfo"][0]["insuplc_admdvs"]
    except (AnswerLost, CentreDown) as exc:
        print(f"unreachable {exc}", flush=True)
        return 3
    print("ready", flush=True)
    for _ in range(count):
        psn_no = rng.choice(list(PATIENTS))
        insutype = PATIENTS[psn_no][0]
        window.insuplc = insuplc[psn_no]
        items = [(rng.choice(["XA01", "XB02", "XC01", "XC01"]), rng.choice(["1", "2", "0.5"]),
                  f"{rng.randint(500, 9000) / 100:.2f}") for _ in range(rng.randint(1, 3))]
        msgid = "-"
        try:
            mdtrt_id = window.register(psn_no, insutype)
            result = window.upload(mdtrt_id, psn_no, items)
            data = window.settle_data(mdtrt_id, psn_no, insutype, sum(D(r["det_item_fee_sumamt"]) for r in result))
            msgid = window.msgid()
            print(f"sent {msgid} {psn_no} {mdtrt_id}", flush=True)
            answer = window.call("2207", {"data": data}, msgid=msgid)
        except (AnswerLost, CentreDown, OSError) as exc:
            print(f"lost {msgid} {type(exc).__name__}", flush=True)
            return 0
        except AssertionError as exc:                # a step before 2207 refused (the centre said why)
            print(f"step-refused {exc}", flush=True)
            continue
        if answer["infcode"] == 0:
            s = answer["output"]["setlinfo"]
            print(f"ack {msgid} {s['setl_id']} {s['acct_pay']}", flush=True)
        else:
            print(f"refused {msgid} {answer.get('ext_err_code')}", flush=True)
    caller.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])))
