"""The house rules of the layout: the runtime never imports the workshop, and no imports run in circles."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from import_graph import ENTRY, ROOT, find_cycles, import_graph, package_graph

SHIPPED_TOP = ("expclip_blender", "operators", "ui")


def _top(module: str) -> str:
    return module if module == ENTRY else module.split(".")[0]


def test_the_runtime_never_imports_the_workshop():
    graph = import_graph()
    wrong = {
        module: sorted(t for t in targets if _top(t) == "expclip_train")
        for module, targets in graph.items()
        if _top(module) != "expclip_train"
    }
    assert not {m: t for m, t in wrong.items() if t}


def test_no_module_import_cycles():
    assert find_cycles(import_graph()) == []


def test_no_package_import_cycles():
    """Packages import one way too: ui -> operators -> expclip_blender <- expclip_train, at every depth."""
    graph = import_graph()
    for depth in (1, 2):
        assert find_cycles(package_graph(graph, depth)) == [], f"packages {depth} deep"


def test_the_graph_sees_imports():
    # Guards the checks above: a walker that found nothing would pass them all.
    graph = import_graph()
    assert "expclip_blender.api" in graph["expclip_blender"]
    assert "expclip_blender.arkit" in graph["expclip_train.training.generator"]
    assert {"operators", "ui"} <= graph[ENTRY]
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    modules = {"p.x": {"q.y"}, "q.y": {"q.z"}, "q.z": {"p"}, "p": {"p.x"}}
    assert find_cycles(package_graph(modules, 1)) == [["p", "q"]]


def test_importing_and_using_the_runtime_loads_no_workshop_module():
    code = (
        "import sys, numpy as np, expclip_blender as ex\n"
        "m = ex.load(device='cpu'); m.expression('furious')\n"
        "m.animate(np.random.default_rng(0).standard_normal(16000).astype('float32') * 0.1, 16000, 'calm')\n"
        "import expclip_blender.__main__, expclip_blender.jobs, expclip_blender.presets\n"
        "print(sorted(n for n in sys.modules if n.startswith('expclip_train')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


MAX_FUNCTION_LINES = 80  # a runtime function longer than this is several steps: give each a name


def long_functions(root: Path, limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """'path:line name (N lines)' for every function or method under ``root`` spanning more than ``limit``
    lines, from its ``def`` to its last line."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > limit:
                    found.append(f"{path.relative_to(root.parent)}:{node.lineno} {node.name} ({lines} lines)")
    return found


def test_no_runtime_function_is_longer_than_80_lines():
    assert long_functions(ROOT / "expclip_blender") == []


def test_long_functions_finds_long_functions(tmp_path):
    # Guards the check above: a walker that found nothing would always pass it.
    package = tmp_path / "package"
    (package / "inner").mkdir(parents=True)
    statements = [f"x{i} = {i}" for i in range(79)]
    function = ["def long():", *(f"    {s}" for s in statements), "    return 0"]  # 81 lines
    method = ["class C:", "    async def method(self):", *(f"        {s}" for s in statements)]  # 80 lines
    short = ["def short():", "    return 1"]
    (package / "inner" / "module.py").write_text("\n".join([*function, *method, *short]) + "\n")
    assert long_functions(package) == ["package/inner/module.py:1 long (81 lines)"]
    assert long_functions(package, limit=79) == [
        "package/inner/module.py:1 long (81 lines)",
        "package/inner/module.py:83 method (80 lines)",
    ]
