"""The shape of the code that STYLE asks for and no linter checks: no function over eight
parameters, and the library reaches the engine only through its front door."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "curse_cli"
MAX_PARAMETERS = 8

# Files left out of these checks, each with its reason (none today).
EXEMPT: tuple[str, ...] = ()


def _sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py")
                  if not p.relative_to(PACKAGE).as_posix().startswith(EXEMPT))


def parameters(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Positional and keyword-only parameters, less a leading self/cls.  `*args` and
    `**options` are not counted: a click command that gathers its options into one value
    takes them as `**options` and builds the value at once."""
    args = fn.args
    names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
    if names and names[0] in ("self", "cls"):
        names = names[1:]
    return len(names)


def test_parameters_are_counted():
    source = "def f(self, a, b=1, /, c=2, *rest, d, e=3, **more): pass\ndef g(cls): pass\n"
    f, g = ast.parse(source).body
    assert isinstance(f, ast.FunctionDef) and isinstance(g, ast.FunctionDef)
    assert (parameters(f), parameters(g)) == (5, 0)


def test_no_function_over_eight_parameters():
    over = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and parameters(node) > MAX_PARAMETERS:
                over.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name} ({parameters(node)})")
    assert not over, "functions over eight parameters: group what travels together into one value: " + "; ".join(over)


def test_engine_only_through_its_front_door():
    """Outside the engine, the engine is `curse_cli.engine.api`."""
    inside = []
    for path in _sources():
        if path.relative_to(PACKAGE).as_posix().startswith("engine/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("curse_cli.engine."):
                if node.module != "curse_cli.engine.api":
                    inside.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.module}")
    assert not inside, "; ".join(inside)
