"""Which hosts the provider answers, and the issuer each one has.

RFC 8414 section 3.3 has a client compare the issuer it meant with the ``issuer`` the metadata
names; a provider that built that value from the ``Host`` header would let whoever sends the
request choose it. So the provider knows its hosts, like a web framework's ``ALLOWED_HOSTS``:

- a fixed ``issuer`` (or a token endpoint given as a full URL, whose origin is the issuer, as in
  the seed) is the issuer for every request;
- ``allowed_hosts`` lists the other hosts the provider answers: origins (``https://host[:port]``,
  whose scheme then wins over the one the request arrived with, as behind a TLS proxy) or bare
  hosts (``host[:port]``, on the request's scheme); the hosts of options given as full URLs
  (API routes, endpoints, the resource) are added;
- with neither ``issuer`` nor ``allowed_hosts``, loopback hosts on any port are answered too
  (``localhost``, ``127.0.0.0/8``, ``[::1]``), and ``testserver``, the name Starlette's and
  FastAPI's ``TestClient`` use: the development default.

A request for any other host is refused before anything sees it. Test mode
(``serving/testmode.py``, loopback only) answers any host, taking the issuer from the request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import urlsplit

from oauth_reference.errors import ConfigurationError
from oauth_reference.specs.oauth21.redirect_uris import is_loopback_host

_DEFAULT_PORTS = {"http": "80", "https": "443"}
# Answered by the development default besides loopback: the host Starlette's TestClient sends (a
# single label, so no one can register it as a public name).
TEST_CLIENT_HOST = "testserver"
_REMEMBERED = 256  # decisions kept per policy; Host is the client's choice, so the memory is bounded
# A host name or an IP literal, with an optional port: no user information, path or wildcard.
_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9\-.]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$")


def _netloc(scheme: str, host: str) -> str:
    """``host[:port]`` lower-cased, without the scheme's default port."""
    host = host.lower()
    name, sep, port = host.rpartition(":")
    if sep and "]" not in port and port == _DEFAULT_PORTS.get(scheme):
        return name
    return host


def _hostname(netloc: str) -> str:
    if netloc.startswith("["):
        return netloc[1 : netloc.index("]")] if "]" in netloc else netloc
    return netloc.rsplit(":", 1)[0]


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of an absolute URL, lower-cased, without the default port."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return f"{scheme}://{_netloc(scheme, parts.netloc)}"


@dataclass(frozen=True, slots=True)
class HostPolicy:
    """The hosts answered: ``netloc -> origin`` (``""``: on the request's scheme), plus loopback."""

    hosts: dict[str, str] = field(default_factory=dict)
    loopback: bool = True
    any_host: bool = False
    _decided: dict[tuple[str, str], str | None] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(
        cls, *, issuer: str | None, allowed: Iterable[str] | None, urls: Iterable[str], loopback: bool
    ) -> HostPolicy:
        hosts: dict[str, str] = {}
        for url in [*([issuer] if issuer else []), *urls]:
            origin = origin_of(url)
            hosts.setdefault(origin.split("://", 1)[1], origin)
        if isinstance(allowed, str):
            raise ConfigurationError("allowed_hosts must be a list of hosts or origins")
        for entry in allowed or ():
            if isinstance(entry, str) and entry.startswith(("http://", "https://")):
                parts = urlsplit(entry)
                if parts.path not in ("", "/") or parts.query or parts.fragment or not _HOST.match(parts.netloc):
                    raise ConfigurationError(f"allowed_hosts: {entry!r} must be an origin, https://host[:port]")
                origin = origin_of(entry)
                hosts[origin.split("://", 1)[1]] = origin
            elif isinstance(entry, str) and _HOST.match(entry):
                hosts.setdefault(entry.lower(), "")
            else:
                raise ConfigurationError(f"allowed_hosts: {entry!r} is not a host[:port] or an origin")
        return cls(hosts, loopback=loopback)

    def origin(self, scheme: str, host: str) -> str | None:
        """The origin a request for ``host`` over ``scheme`` is served as, or ``None``: refused."""
        key = (scheme, host)
        try:
            return self._decided[key]
        except KeyError:
            pass
        decided = self._decide(scheme, host)
        if len(self._decided) >= _REMEMBERED:
            self._decided.clear()
        self._decided[key] = decided
        return decided

    def _decide(self, scheme: str, host: str) -> str | None:
        netloc = _netloc(scheme, host)
        found = self.hosts.get(netloc)
        if found is None and netloc != host.lower():
            found = self.hosts.get(host.lower())
        if found is not None:
            return found or f"{scheme}://{netloc}"
        if self.any_host:
            return f"{scheme}://{netloc}"
        if self.loopback and (_hostname(netloc) == TEST_CLIENT_HOST or is_loopback_host(_hostname(netloc))):
            return f"{scheme}://{netloc}"
        return None

    def adding(self, origin: str) -> HostPolicy:
        """The same hosts and ``origin`` (``scheme://host:port``) too."""
        named = origin_of(origin)
        return HostPolicy({**self.hosts, named.split("://", 1)[1]: named}, self.loopback, self.any_host)

    def answering_any_host(self) -> HostPolicy:
        """The same hosts, and every other one too (test mode)."""
        return HostPolicy(dict(self.hosts), self.loopback, any_host=True)
