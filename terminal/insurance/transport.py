"""How an envelope reaches the centre and comes back: in this process, or over HTTP.

Two failures matter and are kept apart, because money depends on the difference:
- `CentreUnreachable`: the request never got there (connection refused, the centre is down): nothing
  happened, the same request may be sent again;
- `AnswerUncertain`: the request went out but no answer came back (a timeout, the connection lost): the
  centre may or may not have done it. Never resend blindly: ask (5203) or undo (2601) first.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from centre.interface import jsonio
from centre.interface.envelope import ENDPOINT


class CentreUnreachable(Exception):
    """The centre could not be reached: the message was not delivered."""


class AnswerUncertain(Exception):
    """The message was sent but its answer was lost: the centre may have done it."""


class Transport(Protocol):
    name: str

    def call(self, envelope: dict[str, Any]) -> dict[str, Any]: ...

    def probe(self) -> None: ...

    def close(self) -> None: ...


class EmbeddedTransport:
    """The centre in this process (`[centre] url` empty): the same envelopes, no network."""

    name = "embedded"

    def __init__(self, centre: Any) -> None:
        self.centre = centre

    def call(self, envelope: dict[str, Any]) -> dict[str, Any]:
        from centre.api import AnswerLost, CentreDown
        # through the JSON text, as over HTTP: the window never sees a type the wire would not carry
        request = jsonio.loads(jsonio.dumps(envelope))
        try:
            answer = self.centre.call(request)
        except CentreDown as exc:
            raise CentreUnreachable(str(exc)) from None
        except AnswerLost as exc:
            raise AnswerUncertain(str(exc)) from None
        return jsonio.loads(jsonio.dumps(answer))

    def probe(self) -> None:
        """Is the centre there? CentreUnreachable when it is down (no transaction, nothing recorded)."""
        if not self.centre.alive():
            raise CentreUnreachable("the centre is down")

    def close(self) -> None:
        self.centre.close()


class HttpTransport:
    """A centre on another machine (`[centre] url = "http://host:port"`), over one keep-alive connection."""

    name = "http"

    def __init__(self, url: str, *, connect_timeout_s: float = 3.0, read_timeout_s: float = 15.0) -> None:
        import httpx
        self.url = url.rstrip("/")
        self._httpx = httpx
        self.client = httpx.Client(base_url=self.url, timeout=httpx.Timeout(read_timeout_s, connect=connect_timeout_s),
                                   headers={"content-type": "application/json"})

    def call(self, envelope: dict[str, Any]) -> dict[str, Any]:
        httpx = self._httpx
        body = jsonio.dumps(envelope).encode("utf-8")
        try:
            response = self.client.post(ENDPOINT, content=body)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise CentreUnreachable(f"cannot reach the centre at {self.url}: {exc}") from None
        except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.RemoteProtocolError, httpx.ReadError,
                httpx.WriteError) as exc:
            raise AnswerUncertain(f"no answer from the centre at {self.url}: {type(exc).__name__}: {exc}") from None
        except httpx.HTTPError as exc:
            raise AnswerUncertain(f"the centre at {self.url} failed: {exc}") from None
        if response.status_code == 503:
            raise CentreUnreachable(f"the centre at {self.url} is down (HTTP 503)")
        if response.status_code != 200:
            raise CentreUnreachable(f"the centre at {self.url} answered HTTP {response.status_code}: "
                                    f"{response.text[:200]}")
        try:
            answer = jsonio.loads(response.content)
        except ValueError as exc:
            raise AnswerUncertain(f"the centre's answer is not an envelope: {exc}") from None
        if not isinstance(answer, dict) or "infcode" not in answer:
            raise AnswerUncertain("the centre's answer is not an envelope")
        return answer

    def probe(self) -> None:
        """`GET /health`: CentreUnreachable unless the centre answers it (no transaction, nothing recorded)."""
        httpx = self._httpx
        try:
            response = self.client.get("/health")
        except httpx.HTTPError as exc:
            raise CentreUnreachable(f"cannot reach the centre at {self.url}: {exc}") from None
        if response.status_code != 200:
            raise CentreUnreachable(f"the centre at {self.url} answered HTTP {response.status_code}")

    def close(self) -> None:
        self.client.close()


def timed(transport: Transport, envelope: dict[str, Any]) -> tuple[dict[str, Any], float]:
    """(answer, milliseconds)."""
    started = time.perf_counter()
    answer = transport.call(envelope)
    return answer, (time.perf_counter() - started) * 1000
