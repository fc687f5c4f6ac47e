"""RFC 9207: the iss parameter in authorization responses, on success and on errors."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from oauth_conformance import requirement
from oauth_conformance.drivers import Callback
from oauth_conformance.features import Feature
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import Authorization
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.second_ask import asked_twice
from oauth_conformance.target import Target
from oauth_conformance.verdicts import PrerequisiteFailed
from oauth_conformance.verdicts import not_applicable


def issued(oauth: OAuth, clients: Clients) -> Callback:
    """The callback of an approved authorization request."""
    callback = oauth.code(clients.public()).callback
    assert callback is not None
    return callback


def iss_values(callback: Callback) -> list[str]:
    return callback.query.get("iss", []) + callback.fragment.get("iss", [])


def iss_of(callback: Callback) -> str:
    values = iss_values(callback)
    if len(values) != 1:
        raise PrerequisiteFailed(f"the response carries {len(values)} iss parameters (see RFC9207-2-SUCCESS)")
    return values[0]


def error_callback(authorization: Authorization) -> Callback:
    if authorization.callback is None or authorization.error is None:
        raise PrerequisiteFailed("the request did not come back to the client with an error")
    return authorization.callback


@requirement("RFC9207-2-SUCCESS")
def test_a_successful_response_carries_one_iss(oauth: OAuth, clients: Clients) -> None:
    values = iss_values(issued(oauth, clients))
    assert len(values) == 1, f"the authorization response carries {len(values)} iss parameters, not one"


@requirement("RFC9207-2-ERROR")
def test_a_denied_request_carries_iss(oauth: OAuth, clients: Clients) -> None:
    callback = error_callback(oauth.authorize(clients.public(), approve=False))
    values = iss_values(callback)
    assert len(values) == 1, f"the access_denied response carries {len(values)} iss parameters, not one"


@requirement("RFC9207-2-ERROR")
def test_an_invalid_request_answered_at_the_redirect_uri_carries_iss(oauth: OAuth, clients: Clients) -> None:
    # An unsupported response_type is reported to the (valid) redirect URI, before any consent.
    callback = error_callback(oauth.authorize(clients.public(), response_type="oauth_conformance_unknown"))
    values = iss_values(callback)
    assert len(values) == 1, f"the {callback.first('error')} response carries {len(values)} iss parameters, not one"


@requirement("RFC9207-2-FORM")
def test_iss_is_an_absolute_url_without_query_or_fragment(oauth: OAuth, clients: Clients, target: Target) -> None:
    iss = iss_of(issued(oauth, clients))
    parts = urlsplit(iss)
    assert parts.scheme and parts.netloc, f"iss {iss!r} is not an absolute URL"
    assert not parts.query and not parts.fragment and "#" not in iss, f"iss {iss!r} has a query or fragment"
    if target.supports(Feature.TLS):
        assert parts.scheme == "https", f"iss {iss!r} is not https"


@requirement("RFC9207-2.3-IDENTICAL")
def test_iss_is_identical_to_the_metadata_issuer(oauth: OAuth, clients: Clients, target: Target) -> None:
    iss = iss_of(issued(oauth, clients))
    assert iss == target.issuer, f"iss is {iss!r}; the metadata issuer is {target.issuer!r}"


@requirement("RFC9207-2.3-ADVERTISED")
def test_a_server_that_sends_iss_advertises_it(
    oauth: OAuth, clients: Clients, target: Target, note: Callable[[str], None]
) -> None:
    # "Does not send iss" switches the check off, so one response without it must not decide: a
    # server that hides the flag and leaves iss out once would never be asked. One more flow, only
    # on that path.
    sent, first = asked_twice(lambda: iss_values(issued(oauth, clients)), lambda values: not values)
    if not sent:
        not_applicable("the server does not send iss (two authorization responses without it)")
    if first is not None:
        note("a first authorization response carried no iss, a second did")
    flag = target.metadata.get("authorization_response_iss_parameter_supported")
    assert flag is True, f"iss is sent, but authorization_response_iss_parameter_supported is {flag!r}"
