"""The served stack in-process: HTTP protocol plus the reference, CPU time per request.

The served benchmark's rates move with whatever else the machine runs; this measures the part
of a served request that is the server's own Python work, without sockets: the raw bytes of a
request go to the protocol's ``data_received`` (uvicorn's protocol class, on a transport that
only collects what is written), the reference answers on a uvloop loop, and the process's CPU
time per request is taken over many requests. Variants, measured in interleaved rounds (the
figure is the median of the rounds):

- ``uvicorn``: uvicorn's httptools protocol with joined writes, the props cache off (the
  reference as served before the lean protocol and the cache);
- ``uvicorn+cache``: the same with the props cache;
- ``lean``: the reference's own protocol (serving/http1.py), the props cache off;
- ``lean+cache``: the reference as ``oauth-reference serve`` runs it now.

Requests: a metadata GET, and an API check (``GET /api/whoami`` with a bearer token). What is
left out (the same for every variant): the system calls of a socket read and write, and the
event loop's wake-up for them.

``--base REV`` compares revisions instead: the reference of ``REV`` (exported with ``git
archive``) and this one, each as ``oauth-reference serve`` runs it (``lean+cache``), measured by
this module in a fresh process per round, the two taking turns (the order swapped every round);
it prints the medians and their ratio, base over this one (above 1: this one is faster).

    python -m reference.bench.stackbench [--requests 5000] [--rounds 5] [--json FILE] [--base REV]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from typing import cast
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

import orjson
import uvicorn
import uvloop
from uvicorn.server import ServerState

from oauth_conformance.support.flows import pkce_pair
from oauth_reference.machinery.clock import SystemClock
from oauth_reference.serving.demo import build_reference
from oauth_reference.serving.server import protocol_class

ROOT = Path(__file__).resolve().parents[2]  # the repository root
VARIANTS = {"uvicorn": ("uvicorn", 0), "uvicorn+cache": ("uvicorn", 4096), "lean": ("lean", 0)}
VARIANTS["lean+cache"] = ("lean", 4096)
HOST = "127.0.0.1:8000"
REDIRECT = "http://127.0.0.1:9/cb"


class _Transport:
    """Collects what the protocol writes; tells the bench when a response has ended."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.on_write: asyncio.Future[None] | None = None
        self.closing = False

    def write(self, data: bytes) -> None:
        self.written.append(bytes(data))
        if self.on_write is not None and not self.on_write.done():
            self.on_write.set_result(None)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def get_write_buffer_size(self) -> int:
        return 0

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass


async def _call(app: Any, method: str, path: str, query: str = "", body: bytes = b"", **headers: str) -> Any:
    """One request straight into the ASGI app (setup only: clients and tokens)."""
    raw = [(b"host", HOST.encode())] + [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    scope: dict[str, Any] = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method}
    scope["scheme"] = "http"
    scope |= {"path": path, "raw_path": path.encode(), "query_string": query.encode(), "headers": raw}
    scope |= {"client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}
    out: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out.update(status=message["status"], headers=dict(message["headers"]))
        else:
            out["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return out


async def _access_token(app: Any) -> str:
    meta = orjson.dumps({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"})
    registered = await _call(app, "POST", "/oauth/register", body=meta, content_type="application/json")
    client_id = orjson.loads(registered["body"])["client_id"]
    verifier, challenge = pkce_pair()
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "state": "s"}
    query |= {"code_challenge": challenge, "code_challenge_method": "S256", "scope": "documents.read"}
    redirect = await _call(app, "GET", "/authorize", urlencode(query))
    code = parse_qs(urlsplit(redirect["headers"][b"location"].decode()).query)["code"][0]
    form = urlencode({"grant_type": "authorization_code", "code": code, "code_verifier": verifier})
    form += f"&client_id={client_id}"
    tokens = await _call(
        app, "POST", "/oauth/token", body=form.encode(), content_type="application/x-www-form-urlencoded"
    )
    return str(orjson.loads(tokens["body"])["access_token"])


class Stack:
    """One variant: a protocol instance on a collecting transport, in front of a fresh reference."""

    def __init__(self, loop: asyncio.AbstractEventLoop, protocol: str, cache: int) -> None:
        self.loop = loop
        self.app = build_reference({"props_cache_size": cache}, clock=SystemClock(), auto_approve=True)
        config = uvicorn.Config(
            self.app,
            http=protocol_class(protocol),
            lifespan="off",
            log_level="warning",
            access_log=False,
            proxy_headers=False,  # as serving/server.py serves
        )
        config.server_header = False
        config.load()
        state = ServerState()
        state.default_headers = [(b"date", b"Mon, 07 Dec 2026 00:00:00 GMT")]
        self.transport = _Transport()
        factory: Any = config.http_protocol_class  # uvicorn's protocol classes take these keywords
        self.protocol = factory(config=config, server_state=state, app_state={}, _loop=loop)
        self.requests: dict[str, bytes] = {}

    async def setup(self) -> None:
        self.protocol.connection_made(cast(asyncio.Transport, self.transport))
        token = await _access_token(self.app)
        self.requests["metadata"] = (
            f"GET /.well-known/oauth-authorization-server HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode()
        )
        self.requests["api"] = (
            f"GET /api/whoami HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
        )
        for kind in self.requests:
            await self.one(kind)
            answer = b"".join(self.transport.written)
            if not answer.startswith(b"HTTP/1.1 200 "):
                raise RuntimeError(f"{kind}: {answer[:200]!r}")

    async def one(self, kind: str) -> None:
        self.transport.written.clear()
        self.transport.on_write = self.loop.create_future()
        self.protocol.data_received(self.requests[kind])
        await self.transport.on_write
        await asyncio.sleep(0)  # let the request's task finish after its last write

    async def many(self, kind: str, count: int) -> float:
        """CPU seconds per request over ``count`` requests."""
        began = time.process_time()
        for _ in range(count):
            await self.one(kind)
        return (time.process_time() - began) / count


async def _measure(requests: int, rounds: int, variants: Sequence[str]) -> dict[str, dict[str, float]]:
    loop = asyncio.get_running_loop()
    stacks = {name: Stack(loop, *VARIANTS[name]) for name in variants}
    for stack in stacks.values():
        await stack.setup()
        for kind in stack.requests:
            await stack.many(kind, min(1000, requests))  # warm-up
    samples: dict[str, dict[str, list[float]]] = {n: {"metadata": [], "api": []} for n in variants}
    for _ in range(rounds):
        for name, stack in stacks.items():
            for kind in ("metadata", "api"):
                samples[name][kind].append(await stack.many(kind, requests))
    return {
        name: {kind: round(statistics.median(values) * 1e6, 1) for kind, values in kinds.items()}
        for name, kinds in samples.items()
    }


def _one_process(pythonpath: Sequence[Path], requests: int) -> dict[str, float]:
    """One round of ``lean+cache`` in a fresh interpreter whose ``oauth_reference`` comes from ``pythonpath``."""
    with tempfile.TemporaryDirectory(prefix="stackbench-") as tmp:
        out = Path(tmp) / "round.json"
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([*map(str, pythonpath), str(ROOT), env.get("PYTHONPATH", "")])
        command = [sys.executable, "-m", "reference.bench.stackbench", "--variant", "lean+cache"]
        command += ["--requests", str(requests), "--rounds", "1", "--json", str(out)]
        subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True, timeout=600)
        figures: dict[str, float] = json.loads(out.read_text())["us_per_request"]["lean+cache"]
        return figures


def compare(base: str, requests: int, rounds: int) -> dict[str, Any]:
    """``base``'s reference against this one, a fresh process per round, taking turns."""
    from reference.bench.harnessbench import export

    with tempfile.TemporaryDirectory(prefix="stackbench-base-") as tmp:
        tree = export(base, Path(tmp))
        sides = {"base": (tree / "reference", tree / "suites"), "head": (ROOT / "reference", ROOT / "suites")}
        samples: dict[str, dict[str, list[float]]] = {side: {"metadata": [], "api": []} for side in sides}
        for round_ in range(rounds):
            order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
            for side in order:
                figures = _one_process(sides[side], requests)
                for kind in ("metadata", "api"):
                    samples[side][kind].append(figures[kind])
            print(
                f"round {round_ + 1}: api base {samples['base']['api'][-1]:.1f}"
                f" head {samples['head']['api'][-1]:.1f} µs (load {os.getloadavg()[0]:.1f})",
                flush=True,
            )
    medians = {side: {k: round(statistics.median(v), 1) for k, v in kinds.items()} for side, kinds in samples.items()}
    ratios = {k: round(medians["base"][k] / medians["head"][k], 3) for k in ("metadata", "api")}
    # On a busy machine other work only ever adds time: the fastest round and the ratio of the
    # rounds run back to back are steadier than the medians.
    fastest = {side: {k: round(min(v), 1) for k, v in kinds.items()} for side, kinds in samples.items()}
    paired = {
        k: round(statistics.median(b / h for b, h in zip(samples["base"][k], samples["head"][k], strict=True)), 3)
        for k in ("metadata", "api")
    }
    return {
        "base": base,
        "us_per_request": medians,
        "base_over_head": ratios,
        "fastest_us_per_request": fastest,
        "base_over_head_fastest": {k: round(fastest["base"][k] / fastest["head"][k], 3) for k in ("metadata", "api")},
        "base_over_head_paired": paired,
        "samples": samples,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reference.bench.stackbench", description=__doc__)
    parser.add_argument("--requests", type=int, default=5000, help="requests per round and variant (default 5000)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--variant", action="append", choices=list(VARIANTS), help="only these (repeat)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--base", help="compare this revision's reference with this one's (lean+cache)")
    args = parser.parse_args(argv)
    if not 1 <= args.requests <= 200_000 or not 1 <= args.rounds <= 50:
        parser.error("requests in [1, 200000], rounds in [1, 50]")
    if args.base:
        compared = compare(args.base, args.requests, args.rounds)
        print(
            f"CPU microseconds per request, median of {args.rounds} rounds of {args.requests};"
            f" load {os.getloadavg()[0]:.2f}"
        )
        print(f"{'':10} {'metadata':>9} {'api':>9}")
        for side in ("base", "head"):
            kinds = compared["us_per_request"][side]
            print(f"{side:10} {kinds['metadata']:9.1f} {kinds['api']:9.1f}")
        ratios = compared["base_over_head"]
        print(f"{'base/head':10} {ratios['metadata']:8.3f}x {ratios['api']:8.3f}x")
        for side in ("base", "head"):
            kinds = compared["fastest_us_per_request"][side]
            print(f"{side + ' min':10} {kinds['metadata']:9.1f} {kinds['api']:9.1f}")
        for label, key in (("min ratio", "base_over_head_fastest"), ("paired", "base_over_head_paired")):
            ratios = compared[key]
            print(f"{label:10} {ratios['metadata']:8.3f}x {ratios['api']:8.3f}x")
        if args.json:
            compared |= {"tool": "reference.bench.stackbench", "requests": args.requests, "rounds": args.rounds}
            compared["load_average_at_end"] = round(os.getloadavg()[0], 2)
            args.json.write_text(json.dumps(compared, indent=2) + "\n")
        return 0
    variants = tuple(args.variant or VARIANTS)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        figures = runner.run(_measure(args.requests, args.rounds, variants))
    print(
        f"CPU microseconds per request (median of {args.rounds} rounds of {args.requests});"
        f" load {os.getloadavg()[0]:.2f}"
    )
    print(f"{'variant':14} {'metadata':>9} {'api':>9}")
    for name, kinds in figures.items():
        print(f"{name:14} {kinds['metadata']:9.1f} {kinds['api']:9.1f}")
    if args.json:
        document = {"tool": "reference.bench.stackbench", "requests": args.requests, "rounds": args.rounds}
        document |= {"load_average_at_end": round(os.getloadavg()[0], 2), "us_per_request": figures}
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
