"""The national interface as data: codes, money at the edge, the envelope and each transaction's fields.

This is the contract between a window and the centre. A window may import it; it imports nothing of the
centre's internals (no store, no rules), only pydantic and the standard library.
"""
