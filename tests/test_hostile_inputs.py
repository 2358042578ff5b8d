"""A sample of the hostile-input catalogue (benchmarks/hostile_inputs.py) through the real `cashier` commands:
no traceback, no silent accept, no control refused, no raw ESC on the terminal. The whole catalogue runs as
the benchmark; a new seed each day samples other cases."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def harness():
    spec = importlib.util.spec_from_file_location("hostile_inputs", ROOT / "benchmarks" / "hostile_inputs.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["hostile_inputs"] = module  # dataclasses look their module up there
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_a_sample_of_hostile_inputs_is_refused_cleanly():
    h = harness()
    port = h.free_port()
    cases = h.catalogue(port)
    assert len(cases) >= 400 and {c.category for c in cases} == set(h.CATEGORIES)
    seed = int(dt.date.today().strftime("%Y%m%d"))
    chosen = h.sample(cases, 3, seed)
    outcomes = h.run(chosen, jobs=2, port=port)
    counts = h.counts(outcomes)
    assert counts["total_tried"] == len(chosen) == 3 * len(h.CATEGORIES)
    wrong = h.problems(outcomes)
    assert not wrong, f"seed {seed}:\n" + "\n".join(wrong)
    assert counts["total_tracebacks"] == counts["total_silent"] == counts["total_raw_esc"] == 0
