"""``--config FILE.toml``: provider options in snake_case, checked before the server starts."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from oauth_reference.errors import ConfigurationError

_NEVER = "never"
_NEVER_OPTIONS = ("refresh_token_ttl", "client_registration_ttl")
# Code, not configuration; ``faults`` (oauth_reference.faults) exists for the known-bad twins only.
_NOT_IN_FILES = (
    "api_handler",
    "api_handlers",
    "default_handler",
    "token_exchange_callback",
    "on_error",
    "resolve_external_token",
    "client_registration_callback",
    "faults",
)


def load_config(path: str | Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"{path}: {exc}") from None
    return options_from_mapping(data, source=str(path))


def options_from_mapping(data: dict[str, Any], *, source: str = "config") -> dict[str, Any]:
    options = dict(data)
    for name in _NOT_IN_FILES:
        if name in options:
            raise ConfigurationError(f"{source}: {name} is code, not configuration")
    for name in _NEVER_OPTIONS:
        if options.get(name) == _NEVER:
            options[name] = None  # the seed's `undefined`: never expires
    return options
