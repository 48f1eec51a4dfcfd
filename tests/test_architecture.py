"""The import rules of docs/ARCHITECTURE.md, checked on the source so they stay true.

Layers point one way: the composition root (app, cli, simulate) builds the app; routes and socket
events (api/, web/, realtime/) parse and call services; services and the read models own their
transactions; the ledger, models, money and unit of work sit at the bottom.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "martingale"
ROUTES = ("martingale.api", "martingale.web", "martingale.realtime")
# what only the routes and the composition root may use: request handling and wire shapes
EDGE = (
    *ROUTES,
    "martingale.contract",
    "martingale.cors",
    "martingale.security",
    "martingale.security_headers",
    "martingale.http_errors",
    "martingale.wire",
)
ROOT = ("martingale", "martingale.app", "martingale.cli", "martingale.simulate")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, *, top_level_only: bool, source: str | None = None) -> set[str]:
    """The martingale modules ``path`` imports, names resolved to modules where they are ones."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text() if source is None else source)
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("martingale")}
        elif isinstance(node, ast.ImportFrom):
            base = (
                package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            )
            target = ".".join([*base, node.module] if node.module else base)
            if not target.startswith("martingale"):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                is_module = (PACKAGE.parent / sub.replace(".", "/")).with_suffix(
                    ".py"
                ).exists() or (PACKAGE.parent / sub.replace(".", "/")).is_dir()
                found.add(sub if is_module else target)
    found.discard(name)
    return found


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_nothing_but_the_package_imports_the_app_factory_module(name):
    if name != "martingale":
        assert "martingale.app" not in imports(MODULES[name], top_level_only=False)


@pytest.mark.parametrize("name", sorted(m for m in MODULES if within(m, ROUTES)))
def test_route_packages_do_not_import_each_other(name):
    own = next(p for p in ROUTES if within(name, (p,)))
    others = {m for m in imports(MODULES[name], top_level_only=False) if within(m, ROUTES)}
    assert all(within(m, (own,)) for m in others), sorted(others)


@pytest.mark.parametrize(
    "name", sorted(m for m in MODULES if m not in ROOT and not within(m, EDGE))
)
def test_services_import_nothing_from_the_request_edge(name):
    edge = {m for m in imports(MODULES[name], top_level_only=False) if within(m, EDGE)}
    assert not edge, f"{name} imports {sorted(edge)}"


def test_module_level_imports_have_no_cycle():
    graph = {
        name: imports(path, top_level_only=True) & set(MODULES) for name, path in MODULES.items()
    }
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            pytest.fail(" -> ".join([*trail[trail.index(name) :], name]))
        if name in done:
            return
        for dep in sorted(graph[name]):
            visit(dep, [*trail, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


def test_the_resolver_sees_what_the_rules_forbid():
    """Relative imports of the factory module and of another route package are both caught."""
    events = MODULES["martingale.realtime.events"]
    source = "from ..app import create_app\nfrom ..api import access\n\ndef f():\n    from .. import app\n"
    assert imports(events, top_level_only=False, source=source) == {
        "martingale.app",
        "martingale.api.access",
    }
    assert imports(events, top_level_only=True, source=source) == {
        "martingale.app",
        "martingale.api.access",
    }


def test_test_modules_share_helpers_not_each_other():
    """Shared test code lives in fixtures and helper modules, never in a test module or conftest."""
    offenders = []
    for path in sorted(Path(__file__).resolve().parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                last = node.module.rsplit(".", 1)[-1]
                if last == "conftest" or last.startswith("test_"):
                    offenders.append(f"{path.name}: from {'.' * node.level}{node.module}")
    assert not offenders, offenders
