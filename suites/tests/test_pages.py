"""support/pages.py: what a page shows is its rendered text, never its markup."""

from __future__ import annotations

import pytest

from oauth_conformance.support.pages import shows_host
from oauth_conformance.support.pages import visible_text

HOST = "client.example.org"


@pytest.mark.parametrize(
    "page",
    [
        f"<p>You are sent to <strong>{HOST}</strong>.</p>",
        f"<html><body><div><span>{HOST.upper()}</span></div></body></html>",
        f"<label>Redirect <input readonly value='https://{HOST}/cb'></label>",
        f"<p>Sent to<br>{HOST}</p><input type=hidden name=x value=y>",
    ],
)
def test_rendered_text_shows_the_host(page: str) -> None:
    assert shows_host(visible_text(page), HOST)


@pytest.mark.parametrize(
    "page",
    [
        f"<input type=hidden name=redirect value='https://{HOST}/cb'>",
        f"<div hidden><p>{HOST}</p></div>",
        f"<div style='display: none'>{HOST}</div>",
        f"<p style='visibility:hidden'>{HOST}</p>",
        f"<!-- {HOST} --><p>nothing</p>",
        f"<script>var host = '{HOST}';</script>",
        f"<head><title>{HOST}</title></head><body>nothing</body>",
        f"<a href='https://{HOST}/cb'>continue</a>",
        f"<template><p>{HOST}</p></template>",
    ],
)
def test_markup_alone_does_not_show_the_host(page: str) -> None:
    assert not shows_host(visible_text(page), HOST), visible_text(page)


def test_text_after_a_hidden_element_is_shown() -> None:
    page = f"<div hidden><p>secret</p></div><p>{HOST}</p>"
    assert visible_text(page) == HOST
