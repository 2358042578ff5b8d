"""The window's side of the insurance centre: how this window talks to it, as a hospital's system does.

`transport` carries envelopes (in-process to the embedded centre, or HTTP); `client` builds them (msgid,
sign_no, the hospital's identity), keeps the window's own log of every message, and turns answers into
the interface's typed models; `msgids` numbers messages so that no msgid is ever used twice.
"""
