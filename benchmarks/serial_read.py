"""Card-read benchmark over the serial card terminal (issue 4): how close to the line's byte-time floor?

The emulator's serial terminal runs in its own process (`cashier emulator serial`) on a real pty:
  read       full reads of li_na's 3.0 card (select + EF05 + external authentication + EF06)
             through SerialReader, at a simulated 115200 baud (the terminal paces every byte both ways)
  floor      the byte-time of the same exchange: bytes that crossed the line both ways (blocks with
             their NAD/PCB/LEN/LRC, R-blocks, everything) × 10 bits ÷ baud
  unthrottled  the same read over the pty with no simulated line speed
Prints key=value lines; the last is ratio=<read ÷ byte-time floor>.

    python benchmarks/serial_read.py [--reads 50] [--baud 115200] [--profile li_na]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from drivers.apdu import Trace  # noqa: E402
from drivers.psam import VirtualPSAM  # noqa: E402
from drivers.serial_t1.reader import SerialReader  # noqa: E402
from drivers.ssse import read_card  # noqa: E402

EXTERNAL_KEY = "0123456789ABCDEFFEDCBA9876543210"
INTERNAL_KEY = "00112233445566778899AABBCCDDEEFF"


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def start_terminal(link: Path, state: Path, profile: str, baud: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "terminal.cli.main", "emulator", "serial", "--link", str(link),
           "--profile", profile, "--state-dir", str(state), "--baud", str(baud)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline() if proc.stdout else ""
    if "ready" not in line:
        proc.kill()
        raise SystemExit(f"the serial terminal did not start: {line!r}")
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def measure(link: Path, reads: int) -> dict:
    """Times of full reads on one open reader; bytes each way and APDUs of one read."""
    psam = VirtualPSAM.from_hex(EXTERNAL_KEY, INTERNAL_KEY)
    times, sizes = [], []
    apdus = 0
    with SerialReader(str(link), timeout=5.0) as reader:
        for i in range(reads + 3):  # 3 warm-up reads: the link leaves its start-up second-copy mode
            chan = reader.link.chan
            before = (chan.bytes_out, chan.bytes_in)
            trace = Trace()
            t0 = time.perf_counter()
            reader.connect()
            read_card(reader, psam, trace=trace)
            elapsed = time.perf_counter() - t0
            if i >= 3:
                times.append(elapsed)
                sizes.append((chan.bytes_out - before[0], chan.bytes_in - before[1]))
                apdus = len(trace.lines) // 2 + 1  # + REQUEST ICC
        stats = dict(reader.link.stats)
    out_b = statistics.median(s[0] for s in sizes)
    in_b = statistics.median(s[1] for s in sizes)
    return {"times": times, "out": out_b, "in": in_b, "apdus": apdus, "stats": stats}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reads", type=int, default=50)
    ap.add_argument("--baud", type=int, default=115200)
    ap.add_argument("--profile", default="li_na")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="serial-bench-") as tmp:
        tmpdir = Path(tmp)
        results = {}
        for label, baud in (("paced", args.baud), ("unthrottled", 0)):
            term = start_terminal(tmpdir / f"tty-{label}", tmpdir / "cards", args.profile, baud)
            try:
                results[label] = measure(tmpdir / f"tty-{label}", args.reads)
            finally:
                stop(term)
    paced, fast = results["paced"], results["unthrottled"]
    read_s = statistics.median(paced["times"])
    wire_bytes = paced["out"] + paced["in"]
    floor_s = wire_bytes * 10 / args.baud
    print(f"profile={args.profile}")
    print(f"baud={args.baud}")
    print(f"reads={len(paced['times'])}")
    print(f"apdus_per_read={paced['apdus']}")
    print(f"bytes_host_to_terminal={paced['out']:.0f}")
    print(f"bytes_terminal_to_host={paced['in']:.0f}")
    print(f"floor_ms={floor_s * 1000:.3f}")
    print(f"read_ms_median={read_s * 1000:.3f}")
    print(f"read_ms_p99={p99(paced['times']) * 1000:.3f}")
    print(f"unthrottled_read_ms_median={statistics.median(fast['times']) * 1000:.3f}")
    print(f"unthrottled_read_ms_p99={p99(fast['times']) * 1000:.3f}")
    print(f"unthrottled_bytes_per_read={fast['out'] + fast['in']:.0f}")
    print(f"retransmits={paced['stats']['retransmits'] + fast['stats']['retransmits']}")
    print(f"ratio={read_s / floor_s:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
