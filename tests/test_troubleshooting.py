"""docs/troubleshooting.md stays complete: every error type of the project and every message the code can
raise, warn or show (its longest fixed piece of text) appears in it.

The messages are found by walking the source's syntax trees, so a new error type, a new message or a
reworded one fails here until the page says what it means and what to do.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "troubleshooting.md"
SOURCES = sorted(
    [
        *(ROOT / "expclip_blender").rglob("*.py"),
        *(ROOT / "operators").rglob("*.py"),
        *(ROOT / "ui").rglob("*.py"),
        ROOT / "__init__.py",
    ]
)
# Fixed text shorter than this ("got ", ": ") says nothing about which message it is.
MIN_FRAGMENT = 10
# Functions whose string arguments are shown to the user as they are.
_SHOWN_BY = {"poll_message_set", "WeightsCheck", "warn"}
# Values of ``limits.py`` and the CLI raise plain ValueError; elsewhere ValueError is a programming error.
_VALUE_ERROR_FILES = {"limits.py", "__main__.py", "device.py", "api.py"}


def _name(node: ast.expr) -> str | None:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None


def error_types(trees: dict[Path, ast.Module]) -> set[str]:
    """The project's own exception and warning classes."""
    return {
        node.name
        for tree in trees.values()
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        and any((_name(b) or "").endswith(("Error", "Warning")) for b in node.bases)
    }


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level text constants (``NO_AUDIO_MESSAGE = "..."``), for messages raised by name."""
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                    out[target.id] = node.value.value
    return out


def fixed_pieces(node: ast.expr, constants: dict[str, str]) -> list[str]:
    """The literal text of a message expression: a string, an f-string's fixed parts, a named constant."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
    if isinstance(node, ast.Name) and node.id in constants:
        return [constants[node.id]]
    if isinstance(node, ast.BinOp):
        return fixed_pieces(node.left, constants) + fixed_pieces(node.right, constants)
    return []


def fragment(pieces: list[str]) -> str | None:
    """The longest fixed piece, trimmed of the punctuation around placeholders; None if too short."""
    trimmed = [p.strip().strip("'\"(),:;.<>").strip() for p in pieces]
    best = max(trimmed, key=len, default="")
    return best if len(best) >= MIN_FRAGMENT else None


def _messages_of_call(call: ast.Call, errors: set[str], path: Path) -> Iterator[ast.expr]:
    name = _name(call.func)
    if name == "AudioError":  # (path, problem, hint): the problem and the hint are the message
        yield from call.args[1:]
    elif name == "poll_fail" or (name == "report" and _reports_problem(call)):
        yield from call.args[1:2]  # (operator class, message) and an operator's ERROR or WARNING report
    elif name in errors or name in _SHOWN_BY or name == "ArgumentTypeError":
        yield from call.args[:1] if name != "WeightsCheck" else _strings_in(call.args[1:])
    elif name == "ValueError" and path.name in _VALUE_ERROR_FILES:
        yield from call.args[:1]
    elif name == "append" and isinstance(call.func, ast.Attribute) and _name(call.func.value) == "lines":
        yield from call.args[:1]  # the preferences' Check lines


def _reports_problem(call: ast.Call) -> bool:
    kinds = call.args[0] if call.args else None
    return isinstance(kinds, ast.Set) and any(
        isinstance(k, ast.Constant) and k.value in ("ERROR", "WARNING") for k in kinds.elts
    )


def _strings_in(nodes: list[ast.expr]) -> Iterator[ast.expr]:
    for node in nodes:
        yield from (n for n in ast.walk(node) if isinstance(n, ast.Constant | ast.JoinedStr))


def _returned_problems(tree: ast.Module) -> Iterator[ast.expr]:
    """Messages returned by the functions that say what is wrong (``_output_problem``, ``_check_*``)."""
    for func in ast.walk(tree):
        if isinstance(func, ast.FunctionDef) and re.match(r"_?(check_\w+|\w+_problem)$", func.name):
            for node in ast.walk(func):
                if isinstance(node, ast.Return) and isinstance(node.value, ast.Constant | ast.JoinedStr):
                    yield node.value


def message_fragments() -> list[tuple[str, str]]:
    """(where, fragment) of every message the project shows, found in its source."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in SOURCES}
    errors = error_types(trees)
    found = []
    for path, tree in trees.items():
        constants = _constants(tree)
        nodes = [
            (getattr(n, "lineno", 0), m)
            for n in ast.walk(tree)
            if isinstance(n, ast.Call)
            for m in _messages_of_call(n, errors, path)
        ]
        nodes += [(n.lineno, n) for n in _returned_problems(tree)]
        nodes += [
            (0, ast.Constant(v)) for k, v in constants.items() if k.endswith(("_MESSAGE", "REGISTERED"))
        ]
        for line, node in nodes:
            piece = fragment(fixed_pieces(node, constants))
            if piece:
                found.append((f"{path.relative_to(ROOT)}:{line}", piece))
    return found


def _doc_text() -> str:
    return " ".join(DOC.read_text(encoding="utf-8").split())


def test_every_error_type_is_documented() -> None:
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in SOURCES}
    text = _doc_text()
    missing = sorted(name for name in error_types(trees) if f"`{name}`" not in text)
    assert not missing, f"docs/troubleshooting.md does not list the error types {missing}"


def test_every_message_is_documented() -> None:
    text = _doc_text()
    found = message_fragments()
    assert len(found) > 150, f"the source walk found only {len(found)} messages: is it still finding them?"
    missing = [f"{where}: {piece!r}" for where, piece in found if " ".join(piece.split()) not in text]
    assert not missing, "docs/troubleshooting.md lacks these messages:\n" + "\n".join(missing)


def test_the_walk_finds_a_new_message() -> None:
    """A message added to the code is found (and is not in the page), so the test above would fail."""
    source = (
        "class ExampleError(ValueError): ...\n"
        "def f(path):\n"
        "    raise ExampleError(f\"Example file '{path}' is upside down: turn it over\")\n"
        "    raise AudioError(path, 'the speech is backwards', 'Reverse it first.')\n"
    )
    tree = ast.parse(source)
    errors = error_types({Path("x.py"): tree})
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    pieces = [
        fragment(fixed_pieces(m, {})) for c in calls for m in _messages_of_call(c, errors, Path("x.py"))
    ]
    assert pieces == ["is upside down: turn it over", "the speech is backwards", "Reverse it first"]
    assert not any(p in _doc_text() for p in pieces if p)


def test_readme_links_the_page() -> None:
    assert "docs/troubleshooting.md" in (ROOT / "README.md").read_text(encoding="utf-8")
