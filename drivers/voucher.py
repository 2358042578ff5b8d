"""The e-voucher code (医保电子凭证): what the insurance app shows as a QR code, and what the centre resolves.

Both sides of the code import this one module: the issuer (the emulator's phone) and the centre (1101 with
`mdtrt_cert_type` 01). They share a 32-byte key, as the national app and the platform share theirs.

    text     = PREFIX + base32(body), upper case, no padding: 76 characters, all in the QR alphanumeric set
    body     = version (1) | nonce (12) | AES-256-GCM(key, nonce, payload, aad = PREFIX + version) (15 + 16)
    payload  = ID number (9: 18 nibbles, X as 0xA) | issued (4: Unix seconds) | lifetime (2: seconds)

The AEAD makes the code unforgeable and unreadable without the key (nobody can make another person's, or
change the time of their own); the nonce makes every code distinct and is what "used once" remembers. The code
says nothing about its own validity: the reader checks the time (`expired`) and the use.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from drivers.errors import CardError, ErrorKind

if TYPE_CHECKING:   # imported where a code is sealed or opened: checking a key or a config needs no cipher
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "YBEV:"
VERSION = 1
KEY_BYTES = 32
NONCE_BYTES = 12
_PAYLOAD_BYTES = 9 + 4 + 2
_BODY_BYTES = 1 + NONCE_BYTES + _PAYLOAD_BYTES + 16
BODY_CHARS = (_BODY_BYTES * 8 + 4) // 5          # 71
CODE_CHARS = len(PREFIX) + BODY_CHARS            # 76
MAX_LIFETIME_S = 0xFFFF
#: a code issued this much "in the future" is still accepted (the phone's clock and the centre's differ a little)
CLOCK_SKEW_S = 30

_CERTNO = re.compile(r"[0-9]{17}[0-9X]")
_BODY = re.compile(r"[A-Z2-7]*")
_CODE = re.compile(re.escape(PREFIX) + rf"[A-Z2-7]{{{BODY_CHARS}}}")

VOUCHER_MALFORMED = ErrorKind("voucher_malformed", None, "This is not an insurance e-voucher code.",
                              "不是医保电子凭证二维码")
VOUCHER_FORGED = ErrorKind("voucher_forged", None,
                           "The e-voucher code failed its check (altered, or not issued for this platform).",
                           "医保电子凭证校验失败(二维码被篡改或非本平台签发)")
VOUCHER_KEY = ErrorKind("voucher_key", None, "The e-voucher key must be 64 hex digits (32 bytes).",
                        "医保电子凭证密钥应为64位十六进制数字(32字节)")


class VoucherError(CardError):
    """A code that cannot be read: malformed, forged (or made with another key), or a bad key."""


@dataclass(frozen=True)
class Voucher:
    """What a genuine code says: whose it is and when it was made; `nonce` identifies it (used once)."""

    certno: str
    issued: int          # Unix seconds
    expires: int         # Unix seconds: the code is refused from this second on
    nonce: bytes

    @property
    def nonce_hex(self) -> str:
        return self.nonce.hex()


def parse_key(text: str) -> bytes:
    """The shared key from its config text (64 hex digits); VoucherError(voucher_key) otherwise."""
    if not isinstance(text, str) or not re.fullmatch(r"[0-9A-Fa-f]{64}", text):
        raise VoucherError(VOUCHER_KEY)
    return bytes.fromhex(text)


def normalise(text: str) -> str:
    """What a scanner sent, as the code is compared: surrounding blanks and line ends gone, upper case."""
    return text.strip().upper()


def looks_like(text: str) -> bool:
    """The code's shape (prefix, length, alphabet) without the key: is this scan meant to be an e-voucher?"""
    return isinstance(text, str) and _CODE.fullmatch(normalise(text)) is not None


def could_begin(text: str) -> bool:
    """Whether `text` (upper case) may still grow into a code: a keyboard-wedge burst worth holding back."""
    if len(text) <= len(PREFIX):
        return PREFIX.startswith(text)
    return text.startswith(PREFIX) and len(text) <= CODE_CHARS and _BODY.fullmatch(text[len(PREFIX):]) is not None


def issue(key: bytes, certno: str, *, issued: int, lifetime_s: int, nonce: bytes | None = None) -> str:
    """A fresh code for the person with this ID number, valid `lifetime_s` seconds from `issued`."""
    certno = certno.strip().upper() if isinstance(certno, str) else ""
    if not _CERTNO.fullmatch(certno):
        raise VoucherError(VOUCHER_MALFORMED, "an e-voucher names a person by an 18-character ID number")
    if not 1 <= lifetime_s <= MAX_LIFETIME_S:
        raise VoucherError(VOUCHER_MALFORMED, f"lifetime {lifetime_s}s: between 1 and {MAX_LIFETIME_S} seconds")
    if not 0 <= issued < 1 << 32:
        raise VoucherError(VOUCHER_MALFORMED, f"issue time {issued} out of range")
    nonce = os.urandom(NONCE_BYTES) if nonce is None else nonce
    if len(nonce) != NONCE_BYTES:
        raise ValueError(f"a nonce is {NONCE_BYTES} bytes")
    payload = _pack_certno(certno) + issued.to_bytes(4, "big") + lifetime_s.to_bytes(2, "big")
    sealed = _aead(key).encrypt(nonce, payload, _aad(VERSION))
    body = bytes((VERSION,)) + nonce + sealed
    return PREFIX + base64.b32encode(body).decode("ascii").rstrip("=")


def decode(key: bytes, text: str) -> Voucher:
    """The genuine code's content; VoucherError(voucher_malformed) for anything not shaped like a code,
    (voucher_forged) for one that fails the AEAD check: altered, made up, or made with another key."""
    if not isinstance(text, str):
        raise VoucherError(VOUCHER_MALFORMED, "not text")
    text = normalise(text)
    if not text.startswith(PREFIX):
        raise VoucherError(VOUCHER_MALFORMED, f"it does not begin with {PREFIX}")
    if not _CODE.fullmatch(text):
        raise VoucherError(VOUCHER_MALFORMED, f"{CODE_CHARS} characters expected (A-Z, 2-7 after {PREFIX}), "
                                              f"got {len(text)}")
    encoded = text[len(PREFIX):]
    try:
        body = base64.b32decode(encoded + "=" * (-len(encoded) % 8))
    except (binascii.Error, ValueError):
        raise VoucherError(VOUCHER_MALFORMED, "not base32") from None
    if base64.b32encode(body).decode("ascii").rstrip("=") != encoded:     # unused low bits set: not our writing
        raise VoucherError(VOUCHER_MALFORMED, "not a canonical encoding")
    if body[0] != VERSION:
        raise VoucherError(VOUCHER_MALFORMED, f"version {body[0]} (this reader knows {VERSION})")
    nonce, sealed = body[1:1 + NONCE_BYTES], body[1 + NONCE_BYTES:]
    from cryptography.exceptions import InvalidTag
    try:
        payload = _aead(key).decrypt(nonce, sealed, _aad(VERSION))
    except InvalidTag:
        raise VoucherError(VOUCHER_FORGED) from None
    certno = _unpack_certno(payload[:9])
    issued = int.from_bytes(payload[9:13], "big")
    lifetime = int.from_bytes(payload[13:15], "big")
    return Voucher(certno=certno, issued=issued, expires=issued + lifetime, nonce=nonce)


def expired(voucher: Voucher, now: float) -> bool:
    return now >= voucher.expires


def from_the_future(voucher: Voucher, now: float) -> bool:
    """Issued later than now by more than the clocks may differ: a wrong clock on one side."""
    return voucher.issued > now + CLOCK_SKEW_S


def _aead(key: bytes) -> AESGCM:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    if not isinstance(key, bytes) or len(key) != KEY_BYTES:
        raise VoucherError(VOUCHER_KEY)
    return AESGCM(key)


def _aad(version: int) -> bytes:
    return PREFIX.encode("ascii") + bytes((version,))


def _pack_certno(certno: str) -> bytes:
    nibbles = [10 if c == "X" else int(c) for c in certno]
    return bytes((hi << 4) | lo for hi, lo in zip(nibbles[::2], nibbles[1::2]))


def _unpack_certno(packed: bytes) -> str:
    nibbles = [n for b in packed for n in (b >> 4, b & 0x0F)]
    if any(n > 9 for n in nibbles[:17]) or nibbles[17] > 10:
        raise VoucherError(VOUCHER_MALFORMED, "the ID number inside is not one")
    return "".join(str(n) for n in nibbles[:17]) + ("X" if nibbles[17] == 10 else str(nibbles[17]))


__all__ = ["CODE_CHARS", "PREFIX", "Voucher", "VoucherError", "could_begin", "decode", "expired", "from_the_future",
           "issue", "looks_like", "normalise", "parse_key"]
