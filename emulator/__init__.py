"""The virtual social security card: a small ISO 7816-4 card OS, card profiles, fault injection,
and its attachments (in-process reader, vpcd card side for pcscd, serial terminal on a pty)."""
