"""Run the examples in README.md and docs/*.md, or rewrite their expected output.

A ```console block holds commands, each a line `$ curse ARGS`, followed by the output
they print (stdout and stderr, as a terminal shows them).  Each command runs in process
through click's CliRunner from the repository root (so `specs/...` paths work), at
COLUMNS=80 with no colour; its output must equal the lines that follow, up to trailing
whitespace.  A ```python block runs in the namespace the file's earlier blocks built.
`<!-- skip: next -->` on the line before a block skips it (slow or random examples).

    python tests/doc_examples.py           # rewrite every console block's output in place

prints the files it changed; `tests/test_docs.py` checks them.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner
from sybil import Document, Example, Sybil
from sybil.evaluators.python import PythonEvaluator
from sybil.parsers.markdown import CodeBlockParser, SkipParser

ROOT = Path(__file__).resolve().parent.parent
ENV = {"COLUMNS": "80", "NO_COLOR": "1", "FORCE_COLOR": None, "TERM": "dumb"}
PROMPT = "$ "


def documents() -> list[Path]:
    """Every Markdown file whose examples are run."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@dataclass(frozen=True)
class Command:
    line: str  # as written, `$ curse ...`
    argv: tuple[str, ...]
    expected: str  # the lines after the command, up to the next command


def commands(block: str, where: str) -> list[Command]:
    """The `$ curse ...` commands of a console block and the output written under each."""
    found: list[tuple[str, tuple[str, ...], list[str]]] = []
    for line in block.splitlines():
        if line.startswith(PROMPT):
            argv = shlex.split(line[len(PROMPT):])
            if not argv or argv[0] != "curse" or {"|", ">", "<", "&&", ";"} & set(argv):
                raise ValueError(f"{where}: a console example runs one `curse` command per line, "
                                 f"without pipes or redirections: {line!r}")
            found.append((line.rstrip(), tuple(argv[1:]), []))
        elif not found:
            raise ValueError(f"{where}: a console block starts with a `$ curse ...` line: {line!r}")
        else:
            found[-1][2].append(line)
    return [Command(line, argv, "\n".join(out)) for line, argv, out in found]


def normalise(text: str) -> str:
    """Trailing whitespace of each line and trailing blank lines do not count."""
    return "\n".join(line.rstrip() for line in text.splitlines()).strip("\n")


@contextmanager
def _at_root() -> Iterator[None]:
    before = os.getcwd()
    os.chdir(ROOT)
    try:
        yield
    finally:
        os.chdir(before)


def output_of(argv: tuple[str, ...]) -> str:
    """What `curse ARGV` prints, stdout and stderr interleaved, run in process."""
    from curse_cli.cli.main import cli

    with _at_root():
        result = CliRunner().invoke(cli, list(argv), env=ENV, prog_name="curse")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise RuntimeError(f"curse {shlex.join(argv)} raised {result.exception!r}") from result.exception
    return normalise(result.output)


def _where(example: Example) -> str:
    return f"{Path(example.path).relative_to(ROOT)}:{example.line}"


def check_console(example: Example) -> str | None:
    """Sybil's evaluator for a console block: a message per command whose output differs."""
    problems = []
    for cmd in commands(example.parsed, _where(example)):
        got = output_of(cmd.argv)
        if got != normalise(cmd.expected):
            problems.append(f"{cmd.line}\n--- documented\n{normalise(cmd.expected)}\n"
                            f"--- printed\n{got}")
    return "\n".join(problems) or None


_PYTHON = PythonEvaluator()


def _python_at_root(example: Example) -> None:
    with _at_root():
        _PYTHON(example)


def sybil(console=check_console, python=None) -> Sybil:
    """The parsers, with the console and python evaluators given (the checks by default)."""
    return Sybil(parsers=[CodeBlockParser("console", console), CodeBlockParser("python", python or _python_at_root),
                          SkipParser()],
                 path=str(ROOT), patterns=["*.md"])


def evaluate(path: Path) -> list[str]:
    """Run every example of one document in order; a message per failing example."""
    failures = []
    document: Document = sybil().parse(path)
    for example in document.examples():
        try:
            example.evaluate()
        except Exception as err:  # noqa: BLE001 - each failing example is reported, then the next runs
            if type(err).__name__ == "SkipTest":
                continue
            failures.append(f"{_where(example)}: {err}")
    return failures


def update(path: Path) -> bool:
    """Rewrite the output under every console command of `path` (skipped blocks kept);
    True when the file changed."""
    edits: list[tuple[int, int, str]] = []

    def record(example: Example) -> None:
        source = example.parsed
        start = example.region.start + source.offset
        lines = []
        for cmd in commands(source, _where(example)):
            lines += [cmd.line, *output_of(cmd.argv).splitlines()]
        edits.append((start, start + len(source), "\n".join(lines) + "\n"))

    text = path.read_text(encoding="utf-8")
    for example in sybil(console=record, python=lambda example: None).parse(path).examples():
        try:
            example.evaluate()
        except Exception as err:  # noqa: BLE001 - a skipped block stays as it is
            if type(err).__name__ != "SkipTest":
                raise
    new = text
    for start, end, replacement in sorted(edits, reverse=True):
        new = new[:start] + replacement + new[end:]
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def main(argv: list[str]) -> int:
    paths = [Path(a).resolve() for a in argv] or documents()
    changed = [p for p in paths if update(p)]
    for p in changed:
        print(f"updated {p.relative_to(ROOT)}")
    print(f"{len(changed)} of {len(paths)} files changed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
