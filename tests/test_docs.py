"""The examples in README.md and docs/*.md print what the docs say they print.

Each document is one test: its ```console commands run through the CLI in process and
their output is compared line by line, and its ```python blocks run in order (see
`doc_examples.py`; `make docs-examples` rewrites the expected output after a change)."""

from __future__ import annotations

import re

import pytest

from doc_examples import ROOT, commands, documents, evaluate, normalise


@pytest.mark.parametrize("path", documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_examples_print_what_the_docs_say(path):
    failures = evaluate(path)
    assert not failures, "\n\n".join(failures)


def test_a_block_is_read_as_commands_and_their_output():
    block = "$ curse validate specs/two_layer_erf.yaml\nspecs/two_layer_erf.yaml: ok   \n\n$ curse --version\ncurse\n"
    first, second = commands(block, "here")
    assert first.argv == ("validate", "specs/two_layer_erf.yaml")
    assert normalise(first.expected) == "specs/two_layer_erf.yaml: ok"
    assert second.argv == ("--version",) and second.expected == "curse"


@pytest.mark.parametrize("block", ["$ ls\n", "text first\n$ curse --version\n", "$ curse predict x | head\n"])
def test_a_block_that_would_not_be_checked_is_refused(block):
    with pytest.raises(ValueError):
        commands(block, "here")


def _schemas_in_code() -> dict[str, str]:
    from curse_cli.cli import ldt_render
    from curse_cli.documents import depth, predict, sweep
    from curse_cli.simulate import report as simulate_report

    names = [predict.PREDICT_SCHEMA, predict.COMPARE_SCHEMA, predict.EXPLAIN_SCHEMA, predict.PATTERNS_SCHEMA,
             sweep.SCHEMA, depth.DEPTH_SCHEMA, ldt_render.SCHEMA, simulate_report.SCHEMA]
    return dict(name.removeprefix("curse.").split("/") for name in names)


@pytest.mark.parametrize("path", documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_schema_the_docs_name_is_the_one_written(path):
    """A document that names `curse.sweep/1` when the code writes `curse.sweep/2` is stale."""
    current = _schemas_in_code()
    for command, version in re.findall(r"curse\.([a-z]+)/(\d+)", path.read_text(encoding="utf-8")):
        assert current.get(command) == version, f"{path.name}: curse.{command}/{version}, the code writes " \
                                                f"curse.{command}/{current.get(command)}"


# Pages other parts of the manual are being written into; a link to one that does not exist
# yet is allowed, a link to any other missing file is not.
PENDING = {"api.md", "limits.md", "staircase.md", "simulate_families.md"}


def anchors(text: str) -> set[str]:
    """GitHub's anchors of a Markdown file's headings: lower case, punctuation dropped,
    spaces as hyphens."""
    found = set()
    for heading in re.findall(r"^#+ (.+)$", re.sub(r"```.*?```", "", text, flags=re.S), flags=re.M):
        found.add(re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-"))
    return found


@pytest.mark.parametrize("path", [*documents(), ROOT / "CHANGELOG.md"], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_between_the_docs_leads_somewhere(path):
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if "://" in target:
            continue
        file, _, anchor = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        if not linked.exists():
            assert linked.name in PENDING and linked.parent == ROOT / "docs", f"{path.name}: no file {target}"
            continue
        if anchor and linked.suffix == ".md":
            assert anchor in anchors(linked.read_text(encoding="utf-8")), f"{path.name}: no heading #{anchor}"
