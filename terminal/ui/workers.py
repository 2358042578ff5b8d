"""One way to run a service call off the UI thread: a thread worker that posts the result back as a
message, or `WorkFailed(action, code, message)` with the catalogue's message — never a traceback."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, cast

from textual.dom import DOMNode
from textual.message import Message

from terminal.errors import describe
from terminal.ui.messages import WorkFailed

if TYPE_CHECKING:
    from terminal.ui.app import CashierApp


def run_service(node: DOMNode, action: str, call: Callable[[], Any], done: Callable[[Any], Message],
                group: str | None = None, token: int = 0) -> None:
    """Run `call()` on a thread worker of `node` (exclusive in its group: a newer call supersedes an older
    one); post `done(result)` to the node, or WorkFailed (carrying `token`, so that a screen can tell which of
    its questions failed). `call` must only read, never touch widgets."""
    lang = cast("CashierApp", node.app).lang

    def job() -> None:
        try:
            result = call()
        except Exception as exc:  # every failure a cashier can meet is described by the catalogue
            node.post_message(WorkFailed(action, *describe(exc, lang), tries_left=getattr(exc, "tries_left", None),
                                         token=token))
            return
        node.post_message(done(result))

    node.run_worker(job, name=action, group=group or action, exclusive=True, thread=True)
