"""Code scanners at the window: the spec that names one, and the serial scanner (pyserial, one line per scan).

    scanner:serial:URL    a scanner on a serial line: a device (/dev/ttyACM0), a pty, or any pyserial URL
                          (socket://host:port); each scan arrives as one line ending in CR, LF or CR LF
    scanner:keyboard      a keyboard-wedge scanner: it types into the UI (see drivers.scanner_wedge)

`SerialScanner(url).read_line(timeout_s)` gives the next scan's text, or None when nothing was scanned in
time. A scan made while no program had the port open never arrives (the line drops it, as a real serial port
does). Errors are `ScannerError` (a CardError: the same catalogue shape) with a clear message.
"""

from __future__ import annotations

import threading
import time
import unicodedata
from dataclasses import dataclass
from typing import Any

from drivers.errors import CardError, ErrorKind
from drivers.voucher import looks_like, normalise

SPEC_PREFIX = "scanner:"
#: the longest scan taken as one (an e-voucher is 76 characters; a QR code holds up to 4296)
MAX_LINE = 4096
BAUDRATE = 9600     # most scanners' factory setting; a pty ignores it
POLL_S = 0.05       # a read waits at most this long before the deadline is looked at again

SCANNER_SPEC = ErrorKind("bad_scanner_spec", None, "Unknown scanner; use scanner:serial:URL or scanner:keyboard.",
                         "扫码器参数错误(应为 scanner:serial:URL 或 scanner:keyboard)")
SCANNER_OPEN = ErrorKind("scanner_open", None, "Cannot open the code scanner's serial port.", "无法打开扫码器串口")
SCANNER_LOST = ErrorKind("scanner_lost", None, "The code scanner's serial line failed (unplugged?).",
                         "扫码器串口通讯中断(是否已拔出?)")
SCANNER_LINE = ErrorKind("scanner_line", None, "The scan was too long or garbled; scan again.",
                         "扫码数据过长或乱码,请重新扫码")
NOT_A_VOUCHER = ErrorKind("not_a_voucher", None, "The scanned code is not an insurance e-voucher.",
                          "扫描的不是医保电子凭证二维码")


class ScannerError(CardError):
    """A scanner that cannot be opened or read, or a scan that cannot be used."""


@dataclass(frozen=True)
class ScannerSpec:
    kind: str          # "serial" | "keyboard"
    url: str = ""      # for serial


def parse_spec(spec: str) -> ScannerSpec:
    """`scanner:serial:URL` or `scanner:keyboard`; ScannerError(bad_scanner_spec) for anything else."""
    if not isinstance(spec, str) or not spec.startswith(SPEC_PREFIX):
        raise ScannerError(SCANNER_SPEC, _shown(spec))
    rest = spec[len(SPEC_PREFIX):]
    if rest == "keyboard":
        return ScannerSpec("keyboard")
    if rest.startswith("serial:"):
        url = rest[len("serial:"):].strip()
        if not url or _unsafe(url):
            raise ScannerError(SCANNER_SPEC, "scanner:serial: needs the port (e.g. scanner:serial:/dev/ttyACM0)")
        return ScannerSpec("serial", url)
    raise ScannerError(SCANNER_SPEC, _shown(spec))


class SerialScanner:
    """A scanner on a serial line. `read_line` / `read_code` from one thread at a time; `close` from any."""

    def __init__(self, url: str, *, baudrate: int = BAUDRATE, open_now: bool = True) -> None:
        self.url = url
        self.name = f"scanner:serial:{url}"
        self.baudrate = baudrate
        self._port: Any = None
        self._buffer = bytearray()
        self._discarding = False      # inside an over-long line: drop bytes up to its end
        self._lock = threading.Lock()
        if open_now:
            self.open()

    def open(self) -> "SerialScanner":
        if self._port is not None:
            return self
        try:
            import serial
            self._port = serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=POLL_S,
                                               exclusive=True if "://" not in self.url else None)
        except Exception as exc:  # SerialException, ValueError for a bad URL, OSError
            raise ScannerError(SCANNER_OPEN, f"{self.url}: {_reason(exc)}") from None
        return self

    def read_line(self, timeout_s: float) -> str | None:
        """The next scan's text (blanks and line end stripped), or None when none came within `timeout_s`.
        An over-long or undecodable line is ScannerError(scanner_line); the scanner stays usable."""
        deadline = time.monotonic() + max(0.0, timeout_s)
        while True:
            line = self._take_line()
            if line is not None:
                return line
            if time.monotonic() >= deadline:
                return None
            self._fill()

    def read_code(self, timeout_s: float) -> str | None:
        """The next scan, which must look like an e-voucher code (normalised); None when none came in time."""
        line = self.read_line(timeout_s)
        if line is None:
            return None
        if not looks_like(line):
            raise ScannerError(NOT_A_VOUCHER, _shown(line))
        return normalise(line)

    def close(self) -> None:
        with self._lock:
            port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except Exception:  # closing a line that already failed
                pass

    def __enter__(self) -> "SerialScanner":
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------
    def _fill(self) -> None:
        port = self._port
        if port is None:
            raise ScannerError(SCANNER_LOST, f"{self.url}: the port is closed")
        try:     # returns as soon as a byte is there, else after POLL_S (the caller's deadline is checked then)
            chunk = port.read(max(1, port.in_waiting))
        except Exception as exc:  # SerialException (device gone), OSError, TypeError on a closed port
            raise ScannerError(SCANNER_LOST, f"{self.url}: {_reason(exc)}") from None
        self._buffer += chunk

    def _take_line(self) -> str | None:
        """A complete non-empty line from the buffer, if one is there."""
        while True:
            ends = [i for i in (self._buffer.find(b"\r"), self._buffer.find(b"\n")) if i >= 0]
            if not ends:
                if len(self._buffer) > MAX_LINE:          # no end in sight: drop it up to the end that will come
                    self._buffer.clear()
                    self._discarding = True
                    raise ScannerError(SCANNER_LINE, f"more than {MAX_LINE} bytes without a line end")
                return None
            end = min(ends)
            raw = bytes(self._buffer[:end])
            del self._buffer[:end + 1]
            if self._discarding:
                self._discarding = False
                continue
            if len(raw) > MAX_LINE:
                raise ScannerError(SCANNER_LINE, f"a line of {len(raw)} bytes")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise ScannerError(SCANNER_LINE, "not UTF-8 text") from None
            text = text.strip()
            if not text:
                continue                                   # the LF of a CR LF, or an empty scan
            if _unsafe(text):
                raise ScannerError(SCANNER_LINE, "control characters in the scan")
            return text


def _unsafe(text: str) -> bool:
    return any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in text)


def _shown(value: object, limit: int = 40) -> str:
    """A scan or spec as it may be shown: printable, cut short (a scan may be anything)."""
    text = value if isinstance(value, str) else repr(value)
    text = "".join(c if not _unsafe(c) else "?" for c in text)
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


__all__ = ["BAUDRATE", "ScannerError", "ScannerSpec", "SerialScanner", "parse_spec"]
