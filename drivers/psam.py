"""The terminal's virtual PSAM: computes the EXTERNAL AUTHENTICATE cryptogram and
checks INTERNAL AUTHENTICATE answers, with SM4 test keys from config.

On a real terminal the PSAM is a second chip; here it is a key in config.
"""

from __future__ import annotations

from dataclasses import dataclass


def sm4_ecb(key: bytes, block: bytes) -> bytes:
    # imported here: a card read never encrypts, and cryptography's ciphers take longer to import than the
    # read takes to run
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    if len(key) != 16 or len(block) % 16:
        raise ValueError("SM4 takes a 16-byte key and whole 16-byte blocks")
    enc = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def external_cryptogram(key: bytes, challenge: bytes) -> bytes:
    """SM4-ECB of (8-byte challenge ‖ 8 zero bytes): the data of EXTERNAL AUTHENTICATE with key 0A."""
    return sm4_ecb(key, challenge[:8].ljust(8, b"\x00") + b"\x00" * 8)


def internal_answer(key: bytes, data: bytes) -> bytes:
    """What a genuine card answers to INTERNAL AUTHENTICATE of 16 bytes."""
    return sm4_ecb(key, data)


@dataclass(frozen=True)
class VirtualPSAM:
    external_key: bytes
    internal_key: bytes | None = None

    @classmethod
    def from_hex(cls, external_key: str, internal_key: str | None = None) -> "VirtualPSAM":
        return cls(bytes.fromhex(external_key), bytes.fromhex(internal_key) if internal_key else None)

    def cryptogram(self, challenge: bytes) -> bytes:
        return external_cryptogram(self.external_key, challenge)

    def check_internal(self, data: bytes, answer: bytes) -> bool:
        if self.internal_key is None:
            return True
        return internal_answer(self.internal_key, data) == answer
