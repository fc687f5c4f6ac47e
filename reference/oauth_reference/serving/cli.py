"""``oauth-reference``: serve the reference provider (docs/contracts.md, "Serving the reference").

Exit status: 0 after a clean stop (SIGTERM or Ctrl-C); 2 for a usage or configuration error
(a bad option, config file or store, a port that cannot be bound).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from oauth_reference.errors import ConfigurationError
from oauth_reference.machinery.clock import OffsetClock
from oauth_reference.machinery.clock import SystemClock
from oauth_reference.machinery.storage.opener import open_store
from oauth_reference.serving.config import load_config
from oauth_reference.specs.oauth21.redirect_uris import is_loopback_host
from oauth_reference.version import VERSION

DEFAULT_STORE = "sqlite:.oauth-reference/store.sqlite3"
WILDCARDS = ("0.0.0.0", "::", "")  # noqa: S104 (names compared, never bound here)


def storage_path(store: str) -> str:
    """Where a ``sqlite:PATH`` store lives, as an absolute path (said once at start-up)."""
    from pathlib import Path

    return str(Path(store.removeprefix("sqlite:").removeprefix("//")).resolve())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oauth-reference", description="The OAuth 2.1 reference provider.")
    parser.add_argument("--version", action="version", version=f"oauth-reference {VERSION}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser(
        "serve",
        help="serve the reference provider with its demo application",
        description="Serve the reference provider and its demo login and consent pages until SIGTERM;"
        " prints one line 'serving <base URL>' when ready.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: %(default)s)")
    serve.add_argument("--port", type=int, default=8000, help="the port; 0 picks a free one (default: %(default)s)")
    serve.add_argument(
        "--config", metavar="FILE.toml", help="provider options in snake_case (default: none, the library's defaults)"
    )
    serve.add_argument(
        "--store",
        default=DEFAULT_STORE,
        metavar="STORE",
        help="memory | sqlite:PATH | redis://HOST:PORT/DB (the redis extra); default: %(default)s, a file"
        " created under the current directory",
    )
    serve.add_argument(
        "--auto-approve",
        action="store_true",
        help="approve every valid authorization request for a test user, without a login page (default: off)",
    )
    serve.add_argument(
        "--test-mode",
        action="store_true",
        help="add loopback-only test hooks (a movable clock); refused on other addresses (default: off)",
    )
    serve.add_argument(
        "--issuer",
        metavar="URL",
        help="fix the issuer, e.g. behind a proxy (default: http://HOST:PORT as bound; on loopback, the origin"
        " each request used)",
    )
    serve.add_argument(
        "--no-access-log", action="store_true", help="do not log one line per request (default: logged to stderr)"
    )
    serve.add_argument(
        "--http-protocol",
        choices=("lean", "uvicorn"),
        default="lean",
        help="the HTTP/1.1 protocol: this package's lean one on httptools, or uvicorn's own (default: %(default)s)",
    )
    sub.add_parser("check", help="serve the reference and walk a client's whole flow over HTTP")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # the output went to a reader that stopped (head): nothing more to say
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "check":
        from oauth_reference.serving.selfcheck import main as check

        return check()
    if args.test_mode and not is_loopback_host(args.host):
        print("oauth-reference: --test-mode serves on loopback addresses only", file=sys.stderr)
        return 2
    try:
        options = load_config(args.config) if args.config else {}
        if args.issuer:
            options["issuer"] = args.issuer
        if options.get("issuer") is None and options.get("allowed_hosts") is None and args.host in WILDCARDS:
            raise ConfigurationError(
                f"serving every address ({args.host}) needs to know this server's name:"
                " give --issuer URL, or allowed_hosts in the --config file"
            )
        clock = OffsetClock() if args.test_mode else SystemClock()
        storage = open_store(args.store, clock)
        if args.store.startswith("sqlite:"):
            print(f"store: {storage_path(args.store)}", file=sys.stderr, flush=True)
        from oauth_reference.serving.demo import build_reference

        secret = os.environ.get("OAUTH_REFERENCE_DEMO_SECRET")
        provider = build_reference(
            options,
            storage=storage,
            clock=clock,
            auto_approve=args.auto_approve,
            demo_secret=secret.encode() if secret else None,
        )
        app: Any = provider
        if args.test_mode:
            from oauth_reference.serving import testmode

            assert isinstance(clock, OffsetClock)
            app = testmode.install(provider, clock)
    except (ConfigurationError, ValueError) as exc:
        print(f"oauth-reference: {exc}", file=sys.stderr)
        return 2
    from oauth_reference.serving.server import bind
    from oauth_reference.serving.server import serve

    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        print(f"oauth-reference: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    # The address bound, as the operator wrote it, is one of this server's names (hosts.py); on
    # loopback without an issuer every loopback name is answered anyway.
    named = options.get("issuer") is not None or not is_loopback_host(args.host)
    if options.get("allowed_hosts") is None and args.host not in WILDCARDS and named:
        shown = f"[{args.host}]" if ":" in args.host else args.host
        provider.core.hosts = provider.core.hosts.adding(f"http://{shown}:{sock.getsockname()[1]}")
    serve(app, sock, log_requests=not args.no_access_log, http=args.http_protocol)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
