"""The package's shape: no import cycle, and each library behind the one stage that owns it.

Read statically from the source, so it runs in milliseconds. A cycle counts through
imports deferred into functions too (a deferral hides a cycle, it does not break it);
only imports under `if TYPE_CHECKING:` are left out, as they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support import ROOT

PACKAGE = ROOT / "worker"
# Libraries that belong to one place (STYLE.md): who may import them at module level.
OWNERS = {
    "celery": ("worker.celery_app", "worker.tasks"),
    "feedparser": ("worker.feeds.parse",),
    "redis": ("worker.store", "worker.celery_app", "worker.launcher"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_imports(path: Path, *, deferred: bool = True) -> set[str]:
    """Modules imported (with `deferred`, in functions too), resolved to absolute names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        in_function = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        for child in ast.walk(node) if deferred or not in_function else ():
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                found.add(base)
                found.update(f"{base}.{alias.name}" for alias in child.names)
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {
        name: {i for i in module_imports(path) if i in modules and i != name}
        for name, path in modules.items()
    }


def test_the_package_has_no_import_cycle() -> None:
    edges = graph()
    # Importing `a.b` first runs `a/__init__`: a package's own modules importing their
    # package is not a cycle of ours to break.
    edges = {m: {d for d in deps if not m.startswith(d + ".")} for m, deps in edges.items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(edges[node]):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    assert cycles == []


def test_each_library_is_imported_only_by_the_stage_that_owns_it() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        name = module_name(path)
        for library, owners in OWNERS.items():
            imported = {
                i
                for i in module_imports(path, deferred=False)
                if i == library or i.startswith(library + ".")
            }
            if imported and not name.startswith(owners):
                offenders.append(f"{name} imports {library}")
    assert offenders == []
