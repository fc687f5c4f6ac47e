"""Chromium for the browser driver: one browser per run, and a network layer the driver decides.

Playwright's ``route()`` is not enough here: Playwright asks a route handler only about the first
URL of a redirect chain and lets Chromium follow the other hops by itself, to the redirect URI or
anywhere else. So the driver uses Chromium's Fetch domain (DevTools protocol) directly, which
pauses every request, redirect hops included, and every response. Requests to the redirect URI
are answered here and never sent; requests to any origin the driver does not allow are failed;
every exchange with the authorization server is recorded like the HTTP drivers record theirs.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from typing import Any
from typing import TypeVar
from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urljoin

import httpx

from oauth_conformance.drivers.base import Callback
from oauth_conformance.drivers.base import DriverStopped
from oauth_conformance.drivers.base import Hooks
from oauth_conformance.drivers.base import is_callback
from oauth_conformance.drivers.base import origin
from oauth_conformance.drivers.base import parse_callback

T = TypeVar("T")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Cross-site frames stay in the page's process, so the page's Fetch session sees their requests too.
    "--disable-site-isolation-trials",
    "--disable-features=IsolateOrigins,site-per-process",
]
ARRIVED = b"<!doctype html><title>redirect URI</title><p>oauth-conformance: back at the redirect URI (not contacted)"
BLOCKED = (
    b"<!doctype html><title>blocked</title><p>oauth-conformance: a redirect off the allowed origins (not followed)"
)
REDIRECTS = (301, 302, 303, 307, 308)
_RECORDED = ("Document", "XHR", "Fetch")  # what a test may want as evidence (not images, fonts, styles)
_NOT_OVERRIDDEN = ("host", "content-length", "connection", "transfer-encoding", "keep-alive", "upgrade", "te")
_BODYLESS = ("content-encoding", "content-length", "transfer-encoding")  # CDP hands over decoded bodies


class LaunchFailed(RuntimeError):
    """Chromium (or Playwright's driver) did not start."""


class StepRecord:
    """Which profile steps matched in a run, and how often the others timed out."""

    def __init__(self) -> None:
        self._matched: set[str] = set()
        self._misses: dict[str, int] = {}

    def matched(self, step: str) -> None:
        self._matched.add(step)
        self._misses.pop(step, None)

    def missed(self, step: str) -> None:
        if step not in self._matched:
            self._misses[step] = self._misses.get(step, 0) + 1

    def misses(self, step: str) -> int:
        """How many authorizations this step timed out in, without ever matching."""
        return self._misses.get(step, 0)


class Chromium:
    """One Chromium for many authorizations: launched when first needed, closed by :meth:`close`.

    Playwright's synchronous API keeps an event loop on the thread that started it, so everything
    runs on one thread of this object's own: the caller's thread stays free of that loop.
    """

    def __init__(self, executable: str) -> None:
        self.executable = executable
        self.launches = 0
        self.steps = StepRecord()  # shared by the run's authorizations
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chromium")
        self._playwright: Any = None
        self._browser: Any = None

    def run(self, job: Callable[[Any], T], timeout: float) -> T:
        """Call ``job(browser)`` on the browser's thread; wait at most ``timeout`` seconds."""
        return self._executor.submit(self._call, job).result(timeout=timeout)

    def _call(self, job: Callable[[Any], T]) -> T:
        if self._browser is None or not self._browser.is_connected():
            from playwright.sync_api import Error as PlaywrightError
            from playwright.sync_api import sync_playwright

            try:
                if self._playwright is None:
                    self._playwright = sync_playwright().start()
                self._browser = self._playwright.chromium.launch(
                    executable_path=self.executable, args=CHROMIUM_ARGS, headless=True
                )
            except PlaywrightError as exc:
                raise LaunchFailed((str(exc).strip().splitlines() or ["unknown error"])[0]) from None
            self.launches += 1
        return job(self._browser)

    def close(self) -> None:
        """Close the browser and stop Playwright (idempotent)."""

        def stop() -> None:
            if self._browser is not None:
                with suppress(Exception):
                    self._browser.close()
            if self._playwright is not None:
                with suppress(Exception):
                    self._playwright.stop()
            self._browser = self._playwright = None

        with suppress(Exception):
            self._executor.submit(stop).result(timeout=30)
        self._executor.shutdown(wait=False)


class Interception:
    """Decides every request of one page and keeps what the authorization came to."""

    def __init__(self, context: Any, page: Any, redirect_uri: str, allowed: set[str], hooks: Hooks) -> None:
        self.redirect_uri = redirect_uri
        self.allowed = allowed
        self.hooks = hooks
        self.callback: Callback | None = None
        self.foreign: tuple[str, httpx.Response | None] | None = None
        self.error_page: httpx.Response | None = None
        self.last_page: httpx.Response | None = None
        self.hops: list[str] = []  # every page the browser went to after the first
        self.documents = 0
        self.blocked: list[str] = []
        self.problems: list[str] = []
        self.session = context.new_cdp_session(page)
        self.main_frame = self.session.send("Page.getFrameTree")["frameTree"]["frame"]["id"]
        self.session.on("Fetch.requestPaused", self._paused)
        # Every request is paused (to be allowed or refused); responses only where they may be
        # evidence or lead somewhere (a redirect): documents and scripts' requests, not images.
        stages = [{"urlPattern": "*", "requestStage": "Request"}]
        stages += [{"urlPattern": "*", "resourceType": kind, "requestStage": "Response"} for kind in _RECORDED]
        self.session.send("Fetch.enable", {"patterns": stages})

    def finished(self) -> bool:
        """Whether the authorization is over: back at the redirect URI, sent away, or on an error page."""
        return self.callback is not None or self.foreign is not None or self.error_page is not None

    def result(self) -> Callback | None:
        """The callback, or ``None`` while the authorization is still under way."""
        if self.callback is not None:
            return self.callback
        if self.foreign is not None:
            url, response = self.foreign
            raise DriverStopped(
                f"the browser was sent to {origin(url)}, which is neither the authorization server nor the client",
                response,
                unlock="consent.allowed_origins",
            )
        if self.error_page is not None:
            page = self.error_page
            kind = page.headers.get("content-type", "no content type").split(";")[0]
            raise DriverStopped(f"the consent step ended with HTTP {page.status_code} ({kind})", page)
        return None

    # --------------------------------------------------------------------------- events
    def _paused(self, event: dict[str, Any]) -> None:
        try:
            if "responseStatusCode" in event or "responseErrorReason" in event:
                self._response(event)
            else:
                self._request(event)
        except Exception as exc:  # a paused request must never be left hanging
            self.problems.append(f"{type(exc).__name__}: {exc}")
            with suppress(Exception):
                self.session.send("Fetch.failRequest", {"requestId": event["requestId"], "errorReason": "Failed"})

    def _main_document(self, event: dict[str, Any]) -> bool:
        return event.get("resourceType") == "Document" and event.get("frameId") == self.main_frame

    def _request(self, event: dict[str, Any]) -> None:
        request_id = event["requestId"]
        request = event["request"]
        url = request["url"] + request.get("urlFragment", "")
        if is_callback(url, self.redirect_uri):
            if self.callback is None:  # reached without a redirect: a link, a script, a form_post form
                self._arrive(url, 200, request)
            self._fulfill(request_id, ARRIVED)
            return
        if origin(url) not in self.allowed:
            self.blocked.append(origin(url))
            if self._main_document(event) and self.foreign is None:
                self.foreign = (url, None)
            self.session.send("Fetch.failRequest", {"requestId": request_id, "errorReason": "BlockedByClient"})
            return
        if self._main_document(event):
            self.documents += 1
            if self.documents > 1:
                self.hops.append(url)
        params: dict[str, Any] = {"requestId": request_id}
        changed = self._hooked_headers(request)
        if changed is not None:
            params["headers"] = changed
        self.session.send("Fetch.continueRequest", params)

    def _response(self, event: dict[str, Any]) -> None:
        request_id = event["requestId"]
        status = event.get("responseStatusCode")
        if status is None:  # the request failed (responseErrorReason): nothing to record
            self.session.send("Fetch.continueRequest", {"requestId": request_id})
            return
        headers = [(h["name"], h["value"]) for h in event.get("responseHeaders", [])]
        recorded = event.get("resourceType") in _RECORDED
        body = b""
        if recorded and status not in REDIRECTS:
            with suppress(Exception):
                found = self.session.send("Fetch.getResponseBody", {"requestId": request_id})
                raw = found.get("body", "")
                body = base64.b64decode(raw) if found.get("base64Encoded") else raw.encode()
        response = _as_httpx(event["request"], status, headers, body)
        if recorded:
            for hook in self.hooks.get("response", ()):
                hook(response)
        location = response.headers.get("location")
        if status in REDIRECTS and location:
            target = urljoin(str(response.request.url), location)
            if is_callback(target, self.redirect_uri):
                if self.callback is None:
                    self._arrive(target, status, None)
                # Chromium never sees this redirect: it could otherwise preconnect to the redirect
                # URI's host while following it, or learn it for later navigations.
                self._fulfill(request_id, ARRIVED)
                return
            if origin(target) not in self.allowed:
                if self._main_document(event) and self.foreign is None:
                    self.foreign = (target, response)
                self.blocked.append(origin(target))
                self._fulfill(request_id, BLOCKED)
                return
        elif self._main_document(event):
            self.last_page = response
            kind = response.headers.get("content-type", "")
            if status not in (200, 401) or "html" not in kind:
                self.error_page = response
        self.session.send("Fetch.continueResponse", {"requestId": request_id})

    def _fulfill(self, request_id: str, page: bytes) -> None:
        """Answer a paused request (or response) with one of the driver's own pages."""
        headers = [{"name": "Content-Type", "value": "text/html; charset=utf-8"}]
        body = base64.b64encode(page).decode("ascii")
        self.session.send(
            "Fetch.fulfillRequest",
            {"requestId": request_id, "responseCode": 200, "responseHeaders": headers, "body": body},
        )

    def _arrive(self, url: str, status: int, request: dict[str, Any] | None) -> None:
        if request is not None and request.get("method") == "POST":
            # response_mode=form_post: the parameters are the form's body.
            body = _post_data(request).decode("utf-8", "replace")
            url = url.split("?", 1)[0] + "?" + urlencode(parse_qsl(body, keep_blank_values=True))
        self.callback = parse_callback(url, status, tuple(self.hops))

    def _hooked_headers(self, request: dict[str, Any]) -> list[dict[str, str]] | None:
        """The request hooks' changes (the header clock), as Fetch.continueRequest takes them."""
        hooks = self.hooks.get("request", ())
        if not hooks:
            return None
        before = list(request.get("headers", {}).items())
        probe = httpx.Request(request["method"], request["url"], headers=before)
        for hook in hooks:
            hook(probe)
        after = list(probe.headers.multi_items())
        if sorted((k.lower(), v) for k, v in after) == sorted((k.lower(), v) for k, v in before):
            return None
        # Chromium sets these itself and refuses them in an override ("Unsafe header").
        return [{"name": k, "value": v} for k, v in after if k.lower() not in _NOT_OVERRIDDEN]


def _post_data(request: dict[str, Any]) -> bytes:
    if "postData" in request:
        return str(request["postData"]).encode()
    entries = request.get("postDataEntries") or []
    return b"".join(base64.b64decode(e.get("bytes", "")) for e in entries)


def _as_httpx(request: dict[str, Any], status: int, headers: list[tuple[str, str]], body: bytes) -> httpx.Response:
    sent = httpx.Request(
        request["method"],
        request["url"],
        headers=list(request.get("headers", {}).items()),
        content=_post_data(request) if request.get("hasPostData") else b"",
    )
    kept = [(k, v) for k, v in headers if k.lower() not in _BODYLESS]
    return httpx.Response(status, headers=kept, content=body, request=sent)
