"""The first-party import graph, read from the source (nothing is imported).

Modules are named as in the source tree: ``expclip_blender.api``, ``expclip_train.tead.build``,
``operators.bake``, ``ui.sidebar``; the extension's entry module (the repository's ``__init__.py``) is
``<extension>``. Every import counts, at module level or inside a function (a lazy import is still a
dependency), except those under ``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("expclip_blender", "expclip_train", "operators", "ui")
ENTRY = "<extension>"


def module_files() -> dict[str, Path]:
    """Every first-party module by name."""
    out = {ENTRY: ROOT / "__init__.py"}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def _package_of(name: str, path: Path) -> list[str]:
    if name == ENTRY:
        return []
    parts = name.split(".")
    return parts if path.name == "__init__.py" else parts[:-1]


def imports_of(name: str, path: Path, modules: set[str]) -> set[str]:
    """First-party modules ``name`` imports (``from pkg import sub`` names the submodule)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_lines(tree)
    package = _package_of(name, path)
    found: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                base = [*base, *(node.module.split(".") if node.module else [])]
            else:
                base = node.module.split(".") if node.module else []
            # The entry package imports its siblings as ``from . import operators``, and Blender-side code
            # reaches the core as ``from ..expclip_blender import x``: both resolve to top-level names.
            stem = ".".join(base)
            targets = [f"{stem}.{a.name}" if stem else a.name for a in node.names]
            targets = [t if t in modules else stem for t in targets]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module name -> the first-party modules it imports."""
    files = module_files()
    names = set(files)
    return {name: imports_of(name, path, names) for name, path in files.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


def package_graph(graph: dict[str, set[str]], depth: int) -> dict[str, set[str]]:
    """The module graph collapsed to packages ``depth`` names deep (``a.b.c`` -> ``a`` at depth 1).

    An import between a package and its own parent or child is not an edge: a package's ``__init__``
    importing its submodules (and those importing siblings) is the normal shape of a package.
    """

    def cut(module: str) -> str:
        return module if module == ENTRY else ".".join(module.split(".")[:depth])

    out: dict[str, set[str]] = {}
    for module, targets in graph.items():
        source = cut(module)
        for target in targets:
            dest = cut(target)
            related = dest == source or source.startswith(dest + ".") or dest.startswith(source + ".")
            if not related:
                out.setdefault(source, set()).add(dest)
    return out
