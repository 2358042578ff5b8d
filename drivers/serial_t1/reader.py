"""`SerialReader`: a card terminal on a serial line, as a `drivers.reader.Reader`.

Opened by any pyserial URL (device path, pty path, `socket://`, `loop://`). Card APDUs go to
NAD 02 unchanged; terminal commands to NAD 12. PINs are typed on the terminal's keypad
(PERFORM VERIFICATION), so they never cross the line. Insert/remove events come from
GET STATUS polling in a thread while listeners exist.
"""

from __future__ import annotations

import threading

from drivers.errors import CARD_REMOVED, NO_CARD, READER_ERROR, CardError
from drivers.iso7816 import SECRET_INS
from drivers.reader import CardEvent, Reader
from drivers.serial_t1 import terminal_commands as tc
from drivers.serial_t1.block import (
    NAD_CARD_TO_HOST,
    NAD_HOST_TO_CARD,
    NAD_HOST_TO_TERMINAL,
    NAD_TERMINAL_TO_HOST,
)
from drivers.serial_t1.link import HostLink, SerialLine

POLL_S = 0.25


class SerialReader(Reader):
    has_keypad = True

    def __init__(self, url: str, timeout: float = 5.0, baudrate: int = 115200, *, link_options: dict | None = None,
                 open_now: bool = True) -> None:
        super().__init__()
        self.url = url
        self.name = f"serial:{url}"
        self.timeout = timeout
        self.baudrate = baudrate
        self._link_options = dict(link_options or {})
        self._lock = threading.RLock()
        self._port = None
        self._link: HostLink | None = None
        self._atr = b""
        self._poller: threading.Thread | None = None
        self._stop = threading.Event()
        if open_now:
            self._open_port()

    # line -----------------------------------------------------------------------
    def _open_port(self) -> None:
        if self._port is not None:
            return
        try:
            import serial
            self._port = serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=self.timeout,
                                               exclusive=True if "://" not in self.url else None)
        except Exception as exc:  # SerialException, ValueError for a bad URL, OSError
            raise CardError(READER_ERROR, f"cannot open the card terminal at {self.url}: {exc}") from None

    def _open(self) -> HostLink:
        if self._link is not None:
            return self._link
        self._open_port()
        link = HostLink(SerialLine(self._port, self.url), timeout=self.timeout, **self._link_options)
        link.start()  # RESYNCH: the terminal may still hold sequence numbers from an earlier host
        self._link = link
        return link

    @property
    def link(self) -> HostLink:
        return self._open()

    def _terminal(self, command: bytes, extra_wait: float = 0.0, restartable: bool = True) -> tuple[bytes, int]:
        with self._lock:
            nad_, answer = self.link.transceive(NAD_HOST_TO_TERMINAL, command, extra_wait, restartable)
        if nad_ != NAD_TERMINAL_TO_HOST:
            raise CardError(READER_ERROR, f"terminal command answered from NAD {nad_:02X}")
        return tc.split_sw(answer, f"terminal command {command[:2].hex().upper()}")

    # Reader ---------------------------------------------------------------------
    def reset_ct(self) -> None:
        self._terminal(tc.reset_ct())
        self._atr = b""

    def connect(self, wait_s: int = 0) -> bytes:
        """REQUEST ICC: power the card (waiting up to wait_s for one) and return its ATR."""
        with self._lock:
            data, sw = self._terminal(tc.request_icc(wait_s), extra_wait=float(wait_s))
            self._atr = tc.parse_request_icc(data + sw.to_bytes(2, "big"))
            return self._atr

    def disconnect(self) -> None:
        """EJECT ICC (power off); quiet when the line or card is already gone."""
        if self._link is None or not self._atr:
            self._atr = b""
            return
        self._atr = b""
        try:
            self._terminal(tc.eject_icc())
        except CardError:
            pass

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        with self._lock:
            if not self._atr:
                raise CardError(NO_CARD, "connect() first")
            # a PIN check must not run twice: no restart after RESYNCH for VERIFY / CHANGE PIN
            once = len(apdu) > 1 and apdu[1] in SECRET_INS
            nad_, answer = self.link.transceive(NAD_HOST_TO_CARD, bytes(apdu), restartable=not once)
        data, sw = tc.split_sw(answer, "card answer")
        if nad_ != NAD_CARD_TO_HOST:
            err = tc.terminal_error(sw, "during a card command")
            if err is not None and err.kind in (CARD_REMOVED, NO_CARD):
                self._atr = b""  # pulled, or pulled and another card put in (not powered)
                raise CardError(CARD_REMOVED, err.detail)
            raise err or CardError(READER_ERROR, f"the terminal answered {sw:04X} for the card")
        return data, sw

    @property
    def atr(self) -> bytes:
        return self._atr

    def status(self) -> int:
        data, sw = self._terminal(tc.get_status())
        return tc.parse_status(data + sw.to_bytes(2, "big"))

    def card_present(self) -> bool:
        return self.status() != tc.STATUS_NO_CARD

    def verify_on_keypad(self, p2: int = 0x00, timeout: float = 30.0) -> int:
        """PERFORM VERIFICATION: the patient types the PIN on the terminal; returns the card's SW."""
        with self._lock:
            if not self._atr:
                raise CardError(NO_CARD, "connect() first")
            data, sw = self._terminal(tc.perform_verification(p2, int(round(timeout))), extra_wait=timeout,
                                      restartable=False)
        err = tc.terminal_error(sw, "during PIN entry")
        if err is not None:
            if err.kind is CARD_REMOVED:
                self._atr = b""
            raise err
        return sw

    # events ---------------------------------------------------------------------
    def _start_events(self) -> None:
        if self._poller is not None and self._poller.is_alive():
            return
        self._stop.clear()
        self._poller = threading.Thread(target=self._poll, name=f"{self.name} events", daemon=True)
        self._poller.start()

    def _stop_events(self) -> None:
        self._stop.set()
        poller, self._poller = self._poller, None
        if poller is not None and poller is not threading.current_thread():
            poller.join(timeout=self.timeout + 1)

    def _poll(self) -> None:
        present: bool | None = None
        while not self._stop.is_set():
            try:
                now = self.card_present()
            except CardError:
                now = False  # the terminal went away: the card is gone for us too
            if present is not None and now != present:
                if not now:
                    self._atr = b""
                self._emit(CardEvent("inserted" if now else "removed", self.name))
            present = now
            self._stop.wait(POLL_S)

    def close(self) -> None:
        super().close()
        port, self._port, self._link = self._port, None, None
        if port is not None:
            try:
                port.close()
            except Exception:
                pass
