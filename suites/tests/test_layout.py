"""Guards of the layout (docs/architecture.md): layers, no import cycles, names that mean one
thing, requirement ids and contract names that exist."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

from oauth_conformance.catalogue import registry

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "reference" / "oauth_reference"
HARNESS = ROOT / "suites" / "oauth_conformance"
REQUIREMENT_ID = re.compile(r"\b(?:RFC\d{4}|OAUTH21|IDJAG|CIMD|MCP|ROBUST)-[0-9A-Za-z.]+-[A-Z0-9][A-Z0-9-]*[A-Z0-9]\b")
CONTRACT = re.compile(r"\bC([1-9])\b")


def test_the_import_linter_contracts_hold() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "BROKEN" not in result.stdout


def test_no_module_imports_itself_back() -> None:
    graph = grimp.build_graph("oauth_reference", "oauth_conformance")
    cycles = [
        (module, imported, chain)
        for module in sorted(graph.modules)
        for imported in sorted(graph.find_modules_directly_imported_by(module))
        if (chain := graph.find_shortest_chain(importer=imported, imported=module)) is not None
    ]
    assert not cycles, "import cycles: " + "; ".join(f"{m} -> {' -> '.join(c)}" for m, _, c in cycles[:5])


def _python_files(package: Path) -> list[Path]:
    return sorted(p for p in package.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_requirement_id_the_reference_cites_is_in_the_catalogue() -> None:
    known = registry()
    unknown = {
        f"{path.relative_to(ROOT)}: {rid}"
        for path in _python_files(REFERENCE)
        for rid in REQUIREMENT_ID.findall(path.read_text(encoding="utf-8"))
        if rid not in known
    }
    assert not unknown, f"ids cited in the reference but missing from the catalogue: {sorted(unknown)}"


def test_the_reference_cites_requirement_ids_at_all() -> None:
    """The guard above must have something to check (a broken pattern would pass vacuously)."""
    cited = {rid for path in _python_files(REFERENCE) for rid in REQUIREMENT_ID.findall(path.read_text("utf-8"))}
    assert len(cited) > 200


def test_every_contract_the_code_cites_is_written_in_docs() -> None:
    documented = set(re.findall(r"^## C([1-9])\.", (ROOT / "docs" / "contracts.md").read_text("utf-8"), re.M))
    assert documented == {"1", "2", "3", "4", "5"}
    cited: set[tuple[str, str]] = set()
    for path in _python_files(REFERENCE) + _python_files(HARNESS):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "contract" in node.value.lower():
                cited |= {(str(path.relative_to(ROOT)), n) for n in CONTRACT.findall(node.value)}
    missing = sorted(f"{where}: C{n}" for where, n in cited if n not in documented)
    assert not missing, f"contracts cited but not in docs/contracts.md: {missing}"


# Module names both packages use, each for the same thing in its own package.
SHARED_MEANINGS = {"__init__.py", "cli.py", "version.py", "conftest.py", "requirements.py", "support.py"}


def test_no_two_modules_share_a_name_with_different_meanings() -> None:
    harness = {p.name for p in _python_files(HARNESS) if not p.name.startswith("test_")}
    reference = {p.name for p in _python_files(REFERENCE)}
    shared = (harness & reference) - SHARED_MEANINGS
    assert not shared, f"module names in both packages: {sorted(shared)}"


def test_no_two_classes_share_a_name() -> None:
    seen: dict[str, str] = {}
    clashes = []
    for path in _python_files(REFERENCE) + _python_files(HARNESS):
        for node in ast.parse(path.read_text("utf-8")).body:
            if isinstance(node, ast.ClassDef):
                where = str(path.relative_to(ROOT))
                if node.name in seen:
                    clashes.append(f"{node.name}: {seen[node.name]} and {where}")
                seen[node.name] = where
    assert not clashes, clashes


@pytest.mark.parametrize("package", ["oauth_reference", "oauth_conformance"])
def test_no_product_package_imports_test_or_bench_tooling(package: str) -> None:
    graph = grimp.build_graph(package, "reference", include_external_packages=True)
    banned = {"pytest_benchmark", "respx", "nox", "tox", "reference"}
    found = {
        f"{module} -> {imported}"
        for module in graph.modules
        if module.startswith(package)
        for imported in graph.find_modules_directly_imported_by(module)
        if imported.split(".")[0] in banned
    }
    assert not found, sorted(found)
