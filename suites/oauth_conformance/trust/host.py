"""The fixture host: a loopback HTTP(S) server the harness runs for targets to fetch from.

It serves client ID metadata documents, the test IdP's JWK Set and whatever a test programs
(a status, headers, a body, a delay, a slow drip, a redirect), and logs every request so tests
can tell whether the target fetched something. With ``https`` it makes a throwaway CA and a
certificate for 127.0.0.1 and localhost for this run only; ``ca_file`` is what the target must
trust. Documents carry URLs under ``public_base_url`` (the profile's, when the target reaches
the host through another name, e.g. miniflare's outbound service), else under ``base_url``.

Metadata documents are stateless: ``/cimd/<spec>.json`` carries, base64url-encoded in the path,
the document's members and how to serve it, so every test process (and a public deployment of
the same host) can mint one without talking to the process that runs the host. A document's
``client_id`` is the URL the target asked for (``X-Original-URL`` when a proxy forwarded it).
``GET /__hits__`` (loopback only) reports how often each path was fetched.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import secrets
import ssl
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from oauth_conformance.trust import keys as testkeys

HANDSHAKE_TIMEOUT = 10.0  # seconds a connecting target gets to finish its TLS handshake


@dataclass
class Route:
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    body: bytes | Callable[[dict[str, str]], bytes] = b""
    delay: float = 0.0  # before the status line
    drip: float = 0.0  # seconds between bytes of the body (a slow document)


@dataclass(frozen=True)
class Hit:
    method: str
    path: str
    headers: dict[str, str]
    at: float


class _Handler(BaseHTTPRequestHandler):
    server: _HostServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        host = self.server.host
        headers = {k.lower(): v for k, v in self.headers.items()}
        path = self.path.split("?", 1)[0]
        if path == "/__hits__":
            if self.client_address[0] not in ("127.0.0.1", "::1"):
                self._send(404, {"Content-Type": "text/plain"}, b"not found")
                return
            with host.lock:
                counts: dict[str, int] = {}
                for hit in host.hits:
                    counts[hit.path] = counts.get(hit.path, 0) + 1
            self._send(200, {"Content-Type": "application/json"}, orjson.dumps({"hits": counts}))
            return
        with host.lock:
            host.hits.append(Hit("GET", path, headers, time.time()))
            route = host.routes.get(path)
        if route is None and path.startswith(CIMD_PREFIX):
            route = host.document_route(path, headers)
        if route is None:
            self._send(404, {"Content-Type": "text/plain"}, b"not found")
            return
        if route.delay:
            time.sleep(route.delay)
        body = route.body(headers) if callable(route.body) else route.body
        self._send(route.status, route.headers, body, drip=route.drip)

    def _send(self, status: int, headers: dict[str, str], body: bytes, drip: float = 0.0) -> None:
        try:
            self.send_response(status)
            lowered = {k.lower() for k in headers}
            for name, value in headers.items():
                self.send_header(name, value)
            if "content-length" not in lowered:
                self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if drip:
                for i in range(len(body)):
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
                    time.sleep(drip)
            else:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass  # the target gave up (as it should, for oversized or slow documents)

    def log_message(self, format: str, *args: Any) -> None:
        return None


class _HostServer(ThreadingHTTPServer):
    daemon_threads = True
    # Concurrent fetches (the race tests send a burst of requests, each of which may fetch a document)
    # must not overflow the listen queue: a dropped SYN is retried only after a second.
    request_queue_size = 128
    host: FixtureHost

    def get_request(self) -> tuple[Any, Any]:
        try:
            return super().get_request()
        except OSError as exc:  # the accept loop drops such a connection without a word: note it
            self.host.fault("accept", exc)
            raise

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake runs here, in the connection's own thread, not in the accept loop: one
        # slow or stalled client (or a busy CPU) must not hold up every other fetch behind it.
        if isinstance(request, ssl.SSLSocket):
            request.settimeout(HANDSHAKE_TIMEOUT)
            try:
                request.do_handshake()
            except OSError as exc:  # ssl.SSLError included: a failed handshake ends this connection only
                self.host.fault("handshake", exc)
                return
            request.settimeout(None)
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A connection that could not be served (no thread to serve it, a handler that raised): the
        # standard server prints a traceback to stderr, which nobody reads here.
        self.host.fault("serve", sys.exc_info()[1])


def _throwaway_tls(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a leaf certificate for 127.0.0.1, ::1, 0.0.0.0 and localhost, valid for one day."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "oauth-conformance throwaway CA (TEST ONLY)")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
        # 0.0.0.0 reaches this host from the same machine: a target that fails to refuse it (an SSRF
        # hole, CIMD-6.5-SSRF-CLIENT-ID) completes the handshake and shows up in the host's log.
        x509.IPAddress(ipaddress.ip_address("0.0.0.0")),  # noqa: S104 (a name in a certificate, not a bind)
    ]
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ca_file, cert_file, key_file


CIMD_PREFIX = "/cimd/"
DEFAULT_CLIENT_NAME = "oauth-conformance test client"


def encode_spec(spec: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(spec)).rstrip(b"=").decode("ascii")


def decode_spec(token: str) -> dict[str, Any]:
    data = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    if not isinstance(data, dict):
        raise ValueError("a document spec is a JSON object")
    return data


def cimd_path(**spec: Any) -> str:
    """The path of a metadata document described by ``spec`` (see :meth:`FixtureHost.document_route`)."""
    spec.setdefault("n", secrets.token_hex(4))  # each test gets its own URL (and cache entry)
    return f"{CIMD_PREFIX}{encode_spec(spec)}.json"


class FixtureHost:
    """Start with :meth:`start` (or as a context manager); stop with :meth:`stop`."""

    IDP_PATH = "/idp"
    IDP_JWKS_PATH = "/idp/jwks.json"
    CLIENT_JWKS_PATH = "/clients/jwks.json"

    def __init__(self, *, https: bool = True, bind: str = "127.0.0.1", public_base_url: str | None = None) -> None:
        self.https = https
        self.bind = bind
        self._public = public_base_url.rstrip("/") if public_base_url else None
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []
        self.faults: list[str] = []  # connections that ended before an answer: where, and the error's class
        self.lock = threading.Lock()
        self._dir = Path(tempfile.mkdtemp(prefix="oauth-fixture-host-"))
        self.ca_file: Path | None = None
        self._server: _HostServer | None = None
        self._thread: threading.Thread | None = None

    def fault(self, where: str, exc: BaseException | None) -> None:
        """Note a connection that ended before it was answered (the class and errno or TLS reason)."""
        detail = getattr(exc, "reason", None) or getattr(exc, "errno", None)
        with self.lock:
            self.faults.append(f"{where}: {type(exc).__name__}{f' {detail}' if detail else ''}")

    # -------------------------------------------------------------------------- lifecycle
    def start(self, port: int = 0) -> FixtureHost:
        server = _HostServer((self.bind, port), _Handler)
        server.host = self
        if self.https:
            self.ca_file, cert, key = _throwaway_tls(self._dir)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        self._server = server
        # A short poll: stopping the host waits for the loop to notice (0.5 s at the default).
        serve = {"poll_interval": 0.05}
        self._thread = threading.Thread(target=server.serve_forever, kwargs=serve, name="fixture-host", daemon=True)
        self._thread.start()
        self._install_defaults()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FixtureHost:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------------------ URLs
    @property
    def base_url(self) -> str:
        assert self._server is not None, "the fixture host is not running"
        port = self._server.server_address[1]
        return f"{'https' if self.https else 'http'}://{self.bind}:{port}"

    @property
    def public_base_url(self) -> str:
        return self._public or self.base_url

    def url(self, path: str) -> str:
        return self.public_base_url + path

    @property
    def idp_issuer(self) -> str:
        return self.url(self.IDP_PATH)

    @property
    def idp_jwks_uri(self) -> str:
        return self.url(self.IDP_JWKS_PATH)

    # --------------------------------------------------------------------------- content
    def serve(self, path: str, route: Route) -> str:
        with self.lock:
            self.routes[path] = route
        return self.url(path)

    def serve_json(self, path: str, data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> str:
        return self.serve(
            path, Route(status, {"Content-Type": "application/json", **(headers or {})}, orjson.dumps(data))
        )

    def hits_for(self, path: str) -> int:
        with self.lock:
            return sum(1 for h in self.hits if h.path == path)

    def cimd_url(self, **spec: Any) -> str:
        return self.url(cimd_path(**spec))

    def document_route(self, path: str, headers: dict[str, str]) -> Route | None:
        """Serve ``/cimd/<spec>.json``. Spec members: ``doc`` (members to set), ``omit`` (members
        to drop), ``status``, ``headers``, ``delay``, ``drip``, ``redirect`` (a path to redirect
        to, with ``status``), ``pad`` (bytes of padding), ``raw`` (a body used as it is), ``first``
        (members that replace these for the first ``count`` fetches of this URL, default 1: an error
        first, then the good document, at one URL, without the test talking to the host),
        ``client_id_replace`` (``[old, new]``: the document's client_id is its URL with ``old``
        replaced by ``new``, a near miss the test cannot write into the URL it is part of)."""
        try:
            spec = decode_spec(path[len(CIMD_PREFIX) :].removesuffix(".json"))
        except (ValueError, orjson.JSONDecodeError):
            return None
        first = spec.get("first")
        if isinstance(first, dict) and self.hits_for(path) <= int(first.get("count", 1)):
            spec = {**spec, **{k: v for k, v in first.items() if k != "count"}}
        url = headers.get("x-original-url") or self.url(path)
        status = int(spec.get("status", 200))
        reply_headers = {"Content-Type": "application/json", "Cache-Control": "no-store", **spec.get("headers", {})}
        if spec.get("redirect"):
            reply_headers["Location"] = self.url(str(spec["redirect"]))
        if "raw" in spec:
            body = str(spec["raw"]).encode()
        else:
            doc: dict[str, Any] = {"client_id": url, "client_name": DEFAULT_CLIENT_NAME, "redirect_uris": []}
            if isinstance(spec.get("client_id_replace"), list) and len(spec["client_id_replace"]) == 2:
                doc["client_id"] = url.replace(str(spec["client_id_replace"][0]), str(spec["client_id_replace"][1]), 1)
            doc.update(spec.get("doc", {}))
            for name in spec.get("omit", []):
                doc.pop(name, None)
            if spec.get("pad"):
                doc["padding"] = "x" * int(spec["pad"])
            body = orjson.dumps(doc)
        return Route(status, reply_headers, body, float(spec.get("delay", 0)), float(spec.get("drip", 0)))

    def _install_defaults(self) -> None:
        self.serve_json(self.IDP_JWKS_PATH, testkeys.jwks(testkeys.IDP_RS256, testkeys.IDP_ES256))
        self.serve_json(self.CLIENT_JWKS_PATH, testkeys.jwks(testkeys.CLIENT_RS256))


class RemoteFixtureHost:
    """A fixture host another process runs (the controller of an xdist run): same documents."""

    def __init__(self, base_url: str, public_base_url: str, ca_file: str | None, **_: object) -> None:
        self.base_url = base_url
        self.public_base_url = public_base_url
        self.ca_file = Path(ca_file) if ca_file else None

    def url(self, path: str) -> str:
        return self.public_base_url + path

    @property
    def idp_issuer(self) -> str:
        return self.url(FixtureHost.IDP_PATH)

    @property
    def idp_jwks_uri(self) -> str:
        return self.url(FixtureHost.IDP_JWKS_PATH)

    def cimd_url(self, **spec: Any) -> str:
        return self.url(cimd_path(**spec))

    def hits_for(self, path: str) -> int:
        import httpx

        verify: Any = ssl.create_default_context(cafile=str(self.ca_file)) if self.ca_file else False
        with httpx.Client(verify=verify, timeout=5.0) as client:
            counts = client.get(self.base_url + "/__hits__").json()["hits"]
        return int(counts.get(path, 0))


def describe(host: FixtureHost | RemoteFixtureHost) -> dict[str, str | None]:
    """What a worker needs to reach the host (sent through xdist's workerinput)."""
    return {
        "base_url": host.base_url,
        "public_base_url": host.public_base_url,
        "ca_file": str(host.ca_file) if host.ca_file else None,
        "idp_issuer": host.idp_issuer,
        "idp_jwks_uri": host.idp_jwks_uri,
    }
