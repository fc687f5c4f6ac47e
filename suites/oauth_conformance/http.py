"""The HTTP client every test uses: never follows redirects, records every exchange as evidence."""

from __future__ import annotations

import functools
import ssl

import httpx

from oauth_conformance.evidence import Recorder
from oauth_conformance.version import VERSION

USER_AGENT = f"oauth-conformance/{VERSION}"
DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The run's one TLS client context: httpx's default trust (certifi, or ``SSL_CERT_FILE`` /
    ``SSL_CERT_DIR``), built once.

    Building a context reads the whole CA bundle, about 25 ms each time; a run makes well over a
    thousand clients, so a fresh context per client was a third of a run's time. An
    ``ssl.SSLContext`` is safe to share across connections and threads once configured, and
    nothing here changes it after it is made."""
    return httpx.create_ssl_context()


def client(
    recorder: Recorder | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    cookies: bool = False,
) -> httpx.Client:
    """A client that records responses in ``recorder`` and never follows a redirect by itself."""
    hooks = {"response": [_reader(recorder)]} if recorder is not None else {}
    return httpx.Client(
        follow_redirects=False,
        timeout=timeout,
        headers={"User-Agent": USER_AGENT},
        event_hooks=hooks,
        transport=transport,
        verify=tls_context(),
        cookies=None if cookies else _NoCookies(),
    )


def _reader(recorder: Recorder):  # type: ignore[no-untyped-def]
    def hook(response: httpx.Response) -> None:
        response.read()
        recorder.add(response)

    return hook


class _NoCookies(httpx.Cookies):
    """A cookie jar that keeps nothing: requests from tests are independent of each other."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None
