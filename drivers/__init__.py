"""Talking to cards and readers: APDU/TLV codecs, the reader interface, PC/SC and serial transports,
and the social security card's SSSE protocol. Imports neither the emulator nor the terminal."""
