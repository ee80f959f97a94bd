"""The Blender side's two halves, read from the source: one operator per module in ``operators``, the work
in ``operators/services`` (no operator, menu or panel there), and ``ui`` declaring and drawing only."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_BPY_CLASS_KINDS = ("Operator", "Panel", "Menu", "AddonPreferences", "PropertyGroup")


def _bpy_classes(path: Path) -> dict[str, str]:
    """Class name -> the bpy.types base it registers as (Operator, Panel...), for the classes of a module."""
    found = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                text = ast.unparse(base)
                if text.startswith("bpy.types.") and text.rpartition(".")[2] in _BPY_CLASS_KINDS:
                    found[node.name] = text.rpartition(".")[2]
    return found


def test_one_operator_per_operator_module():
    modules = sorted(p for p in (ROOT / "operators").glob("*.py") if p.name != "__init__.py")
    counts = {p.name: list(_bpy_classes(p).values()) for p in modules}
    assert all(kinds in ([], ["Operator"]) for kinds in counts.values()), counts
    assert sum(kinds == ["Operator"] for kinds in counts.values()) == 11


def test_services_hold_no_blender_classes():
    classes = {p.name: _bpy_classes(p) for p in (ROOT / "operators" / "services").glob("*.py")}
    assert not {name: found for name, found in classes.items() if found}


def test_ui_holds_no_operator():
    classes = {p.name: _bpy_classes(p) for p in (ROOT / "ui").glob("*.py")}
    assert not [name for name, found in classes.items() if "Operator" in found.values()]


def test_ui_reads_no_file_itself():
    """The panel and menus draw what the services read (and cache); ui code opens nothing."""
    for path in (ROOT / "ui").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        for call in (
            "open(",
            "read_text(",
            "read_bytes(",
            "load_mapping_preset(",
            "list_presets(",
            ".listing()",
        ):
            assert call not in source, f"{path.name} calls {call}"
