"""The known-bad twins break the reference only through its public seams (see ``suites/tests/twins``).

Each twin module is parsed, not imported: what it imports from ``oauth_reference`` must be on the
list of public seams below, and nothing it does may replace an attribute of an ``oauth_reference``
module or class (an assignment, ``setattr``, ``delattr``, ``patch(...)``, or a reach into a private
name). A rename inside the reference then cannot break a twin, only a change of a public seam can.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import oauth_reference
from oauth_reference import faults

TWINS = Path(__file__).with_name("twins")

# module -> the names a twin may import from it (None: any public name of the module).
SEAMS: dict[str, frozenset[str] | None] = {
    "oauth_reference": frozenset(oauth_reference.__all__),
    "oauth_reference.faults": None,
    "oauth_reference.machinery.asgi": frozenset({"ASGIApp", "Message", "Receive", "Scope", "Send"}),
    # The storage protocol and the write types its commit takes: a twin may pass a storage in.
    "oauth_reference.machinery.storage": frozenset(
        {"Delete", "DeletePrefix", "Entry", "Put", "Storage", "Write", "Page", "ListedKey"}
    ),
    "oauth_reference.machinery.storage.sqlite": frozenset({"SQLiteStorage"}),
}
# serve.py, inprocess.py and __init__.py are not twins: they build and serve the reference (served,
# or in-process for the harness's asgi: targets), through the serving entry points.
SERVING: dict[str, frozenset[str] | None] = {
    "oauth_reference.machinery.clock": frozenset({"OffsetClock"}),
    "oauth_reference.machinery.fetch": frozenset({"TEST_CA_ENV"}),
    "oauth_reference.serving": frozenset({"process", "testmode"}),
    "oauth_reference.serving.all_features": frozenset({"all_features"}),
    "oauth_reference.serving.demo": frozenset({"build_reference"}),
    "oauth_reference.serving.demo.testing": frozenset({"build_app"}),
    "oauth_reference.serving.server": frozenset({"bind", "serve"}),
    "oauth_reference.serving.process": frozenset({"Served", "ServeError"}),
}
MUTATORS = frozenset({"setattr", "delattr", "patch", "__import__", "import_module", "vars"})


@dataclass(frozen=True)
class Breach:
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def _root(node: ast.expr) -> str | None:
    """The name an attribute chain starts from (``a`` for ``a.b.c``), if any."""
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def breaches(path: Path) -> Iterator[Breach]:
    """Every way ``path`` reaches past the public seams of ``oauth_reference``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    name = path.name
    allowed = {**SEAMS, **SERVING} if name in ("serve.py", "inprocess.py", "__init__.py") else SEAMS
    bound: set[str] = set()  # local names bound to something imported from oauth_reference

    def where(node: ast.AST, what: str) -> Breach:
        return Breach(f"twins/{name}", getattr(node, "lineno", 0), what)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "oauth_reference":
                    yield where(node, f"import {alias.name} (import names from the public seams instead)")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "oauth_reference":
            module = node.module or ""
            for alias in node.names:
                bound.add(alias.asname or alias.name)
                if module not in allowed:
                    yield where(node, f"from {module} import {alias.name}: {module} is not a public seam")
                    continue
                names = allowed[module]
                public = not alias.name.startswith("_")
                if not public or (names is not None and alias.name not in names):
                    yield where(node, f"from {module} import {alias.name}: not one of its public names")
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        elif isinstance(node, ast.Delete):
            targets = list(node.targets)
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Attribute) and _root(sub) in bound:
                    yield where(node, f"replaces {ast.unparse(sub)}, an attribute of the reference")
        if isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            first = node.args[0] if node.args else None
            if called in MUTATORS and first is not None and _root(first) in bound:
                yield where(node, f"{called}({ast.unparse(first)}, ...) reaches into the reference")
            dynamic = called in ("__import__", "import_module") and isinstance(first, ast.Constant)
            if dynamic and str(getattr(first, "value", "")).startswith("oauth_reference"):
                yield where(node, f"imports {ast.unparse(node)} dynamically")
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and _root(node) in bound
        ):
            yield where(node, f"reads {ast.unparse(node)}, a private name of the reference")


def twin_modules() -> list[Path]:
    return sorted(TWINS.glob("*.py"))


@pytest.mark.parametrize("path", twin_modules(), ids=lambda p: p.name)
def test_twins_break_the_reference_only_through_its_public_seams(path: Path) -> None:
    found = [str(b) for b in breaches(path)]
    assert not found, "twins reach past the public seams:\n" + "\n".join(found)


def test_the_checker_catches_each_kind_of_reach(tmp_path: Path) -> None:
    """A positive control: every kind of reach the rule forbids is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import oauth_reference.specs.idjag\n"
        "from oauth_reference.specs import rfc7636\n"
        "from oauth_reference import OAuthProvider\n"
        "from oauth_reference.machinery.storage.sqlite import SQLiteStorage\n"
        "rfc7636.verify = None\n"
        "setattr(OAuthProvider, 'x', 1)\n"
        "patch(rfc7636, 'verify', None)\n"
        "SQLiteStorage.commit = None\n"
        "print(OAuthProvider._private)\n",
        encoding="utf-8",
    )
    found = [b.what for b in breaches(bad)]
    assert len(found) == 7, found
    good = tmp_path / "good.py"
    good.write_text(
        "from oauth_reference.machinery.storage.sqlite import SQLiteStorage\n"
        "from oauth_reference.faults import Faults\n"
        "class Slow(SQLiteStorage):\n"
        "    async def commit(self, writes, *, expect=None):\n"
        "        return await super().commit(writes)\n"
        "x = Faults()\n",
        encoding="utf-8",
    )
    assert list(breaches(good)) == []


def test_the_faults_table_names_what_the_twins_break_with_each_fault() -> None:
    """Every fault is used by a twin, and its ids are the ones the twins that use it break (so the
    table in oauth_reference/faults.py stays true). Faults() itself refuses unknown names."""
    from suites.tests.twins import load_all

    broken: dict[str, set[str]] = {name: set() for name in faults.FAULTS}
    for twin in load_all().values():
        for name in twin.faults.names:
            broken[name] |= twin.fails | twin.warns
    for name, fault in faults.FAULTS.items():
        assert broken[name], f"no twin uses the fault {name!r}"
        assert set(fault.ids) == broken[name], (
            f"{name}: the table says {sorted(fault.ids)}, the twins break {sorted(broken[name])}"
        )


def test_every_requirement_a_fault_names_is_in_the_catalogue() -> None:
    from oauth_conformance.catalogue import registry

    unknown = {i for fault in faults.FAULTS.values() for i in fault.ids} - set(registry())
    assert not unknown, sorted(unknown)
