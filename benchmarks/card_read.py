"""Card-read benchmark through the real PC/SC stack (docs/readers.md): is a full read within 2x of the floor?

In one run, with our own pcscd (refuses a pcscd it did not start) and the emulator in vpcd slot 0:
  floor      raw SCardTransmit round trips of SELECT (pyscard, nothing of ours), in batches as long as
             a read, interleaved with the reads; floor_ms = median batch ÷ APDUs per read
  read       the full read of li_na's 3.0 card (select + EF05 + external authentication + EF06)
             through PcscReader, and the same read in-process
  insert     card connected on the vpcd socket -> "inserted" event from pyscard's CardMonitor
Prints key=value lines; the last is ratio=<read ÷ (APDU count × floor)>, target ≤ 2.0: the median over
rounds of (one read ÷ the floor batch of as many APDUs measured just before it).

    python benchmarks/card_read.py [--reads 200] [--inserts 10] [--check]
"""

from __future__ import annotations

import argparse
import queue
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from drivers.apdu import Trace  # noqa: E402
from drivers.pcsc import PcscReader, wait_card_state  # noqa: E402
from drivers.reader import CardEvent  # noqa: E402
from drivers.ssse import SocialSecurityCard, read_card, select_aid_apdu  # noqa: E402
from emulator.inprocess import InProcessReader  # noqa: E402
from emulator.pcscd_runner import PcscdUnavailable, missing_parts, own_pcscd  # noqa: E402
from emulator.profiles import load_card  # noqa: E402
from emulator.vpcd import VpcdCardSide  # noqa: E402

PROFILE = "li_na"  # the 3.0 card that needs external authentication
TARGET = 2.0


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f}"


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


class RawHandle:
    """A bare pyscard handle on the reader: the floor is measured with nothing of ours on top."""

    def __init__(self, reader_name: str) -> None:
        from smartcard import scard as sc
        self.sc = sc
        rc, self.ctx = sc.SCardEstablishContext(sc.SCARD_SCOPE_USER)
        rc, self.card, self.proto = sc.SCardConnect(self.ctx, reader_name, sc.SCARD_SHARE_SHARED,
                                                    sc.SCARD_PROTOCOL_T0 | sc.SCARD_PROTOCOL_T1)
        if rc != sc.SCARD_S_SUCCESS:
            raise SystemExit(f"cannot connect to {reader_name}: {sc.SCardGetErrorMessage(rc)}")
        self.select = list(select_aid_apdu().to_bytes())

    def round_trip(self) -> float:
        t0 = time.perf_counter()
        rc, resp = self.sc.SCardTransmit(self.card, self.proto, self.select)
        dt = time.perf_counter() - t0
        if rc != self.sc.SCARD_S_SUCCESS or resp[-2:] != [0x90, 0x00]:
            raise SystemExit(f"SELECT failed: rc={rc:#x} resp={resp}")
        return dt

    def close(self) -> None:
        self.sc.SCardDisconnect(self.card, self.sc.SCARD_LEAVE_CARD)
        self.sc.SCardReleaseContext(self.ctx)


def timed_read(reader, psam) -> float:
    t0 = time.perf_counter()
    result = read_card(reader, psam)
    dt = time.perf_counter() - t0
    assert result.holder.name and result.holder.certno, "the read did not authenticate"
    return dt


def floor_and_reads(reader_name: str, reader, psam, count: int, reads: int) -> tuple[list[float], list[float], list[float]]:
    """Rounds of `count` raw SELECTs back to back (one floor batch) then one full read of `count` APDUs.

    Interleaved, so a busy machine weighs on both alike; batches of the same length as a read,
    so both meet the same scheduling tail. Returns (single SELECT times, batch times, read times).
    """
    raw = RawHandle(reader_name)
    singles: list[float] = []
    batches: list[float] = []
    times: list[float] = []
    try:
        for _ in range(20):  # warm-up
            raw.round_trip()
            timed_read(reader, psam)
        for _ in range(reads):
            batch = [raw.round_trip() for _ in range(count)]
            singles.extend(batch)
            batches.append(sum(batch))
            times.append(timed_read(reader, psam))
    finally:
        raw.close()
    return singles, batches, times


def full_reads(reader, psam, n: int) -> list[float]:
    timed_read(reader, psam)  # warm-up (and connect)
    return [timed_read(reader, psam) for _ in range(n)]


def apdu_count(reader, psam) -> int:
    trace = Trace()
    SocialSecurityCard(reader, psam, trace).read()
    return len(trace.lines) // 2


def insert_latencies(side: VpcdCardSide, card, n: int) -> list[float]:
    """From the card side's connect (the insertion) to the listener's "inserted" event."""
    events: "queue.Queue[tuple[CardEvent, float]]" = queue.Queue()
    watcher = PcscReader(side.reader_name)
    watcher.add_listener(lambda e: events.put((e, time.monotonic())))
    latencies = []

    def next_event(kind: str, timeout: float = 5.0) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                event, at = events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if event.kind == kind:
                return at
        raise SystemExit(f"no {kind} event within {timeout} s")

    try:
        for _ in range(n):  # the slot starts empty; the card side keeps the reinsertion gap
            if not side.insert(card, wait=5.0):
                raise SystemExit("vpcd did not accept the card")
            latencies.append(next_event("inserted") - side.inserted_at)
            side.remove()
            next_event("removed")
    finally:
        watcher.close()
    return latencies


class CardProcess:
    """The card served by another process, as a real card is not inside the terminal's program
    (and its thread would compete with the reader's for this process's interpreter lock)."""

    def __init__(self, state: str) -> None:
        import subprocess
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--serve-card", state],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "ready":
            raise SystemExit("the card process did not start")

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()  # its cue to take the card out and end
        self.proc.wait(10)


def serve_card(state: str) -> int:
    """--serve-card: the child side of CardProcess."""
    side = VpcdCardSide(0).start()
    side.insert(load_card(PROFILE, state), wait=5.0)
    print("ready", flush=True)
    sys.stdin.read()
    side.stop()
    return 0


def run(args: argparse.Namespace) -> float:
    from terminal.config import load_config
    psam = load_config(ROOT / "config.toml").psam_keys()
    state = tempfile.mkdtemp(prefix="cashier-bench-")
    slot0 = "Virtual PCD 00 00"
    with own_pcscd() as daemon:
        print(f"pcscd_pid={daemon.pid}")
        card_process = CardProcess(state)
        try:
            if not wait_card_state(slot0, True, 5.0):
                raise SystemExit("pcscd never saw the card")
            reader = PcscReader(slot0)
            count = apdu_count(reader, psam)
            singles, batches, pcsc = floor_and_reads(slot0, reader, psam, count, args.reads)
            reader.close()
        finally:
            card_process.stop()
        local = full_reads(InProcessReader(load_card(PROFILE, state)), psam, args.reads)
        wait_card_state(slot0, False, 5.0)
        side = VpcdCardSide(0, reinsert_gap=0.6).start()
        try:
            time.sleep(side.reinsert_gap)  # the child's card just left
            inserts = insert_latencies(side, load_card(PROFILE, state), args.inserts)
        finally:
            side.stop()
    floor_med = statistics.median(batches) / count  # per APDU, from batches as long as a read
    read_med = statistics.median(pcsc)
    # each read against the floor batch measured just before it: a busy machine (other processes
    # come and go) weighs on both sides of every pair alike
    ratio = statistics.median(read / batch for read, batch in zip(pcsc, batches))
    for key, value in (
        ("profile", PROFILE), ("apdu_count", count),
        ("floor_n", len(singles)), ("floor_ms", ms(floor_med)),
        ("floor_single_median_ms", ms(statistics.median(singles))), ("floor_p99_ms", ms(p99(singles))),
        ("read_n", len(pcsc)), ("read_pcsc_ms", ms(read_med)), ("read_pcsc_p99_ms", ms(p99(pcsc))),
        ("read_per_apdu_ms", ms(read_med / count)),
        ("read_inprocess_ms", ms(statistics.median(local))),
        ("insert_n", len(inserts)), ("insert_event_ms", ms(statistics.median(inserts))),
        ("insert_event_max_ms", ms(max(inserts))),
        ("ratio_of_medians", f"{read_med / (count * floor_med):.2f}"),
        ("target_ratio", TARGET),
        ("ratio", f"{ratio:.2f}"),
    ):
        print(f"{key}={value}", flush=True)
    return ratio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=200, help="full reads per transport")
    parser.add_argument("--inserts", type=int, default=10, help="insert/remove cycles for the event latency")
    parser.add_argument("--check", action="store_true", help=f"exit 1 when the ratio exceeds {TARGET}")
    parser.add_argument("--serve-card", metavar="STATE_DIR", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_card:
        return serve_card(args.serve_card)
    why = missing_parts()
    if why:
        print(f"refused: {why}", file=sys.stderr)
        return 2
    try:
        ratio = run(args)
    except PcscdUnavailable as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    return 1 if args.check and ratio > TARGET else 0


if __name__ == "__main__":
    sys.exit(main())
