"""What every view shares: the header that echoes the run, safe text, the console's width,
and cells that wrap only where a reader would break them.

The header is built from the validated spec's `document` (`LoadedSpec.document`) field by
field, whatever they are: an architecture kind with other fields (channels, heads, ...)
is echoed without an edit here.  Together with the run's options it names everything that
changes the answer, so two different runs never print the same header.
"""

from __future__ import annotations

import os
import sys
from fractions import Fraction
from typing import Any, Iterable, Iterator

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.text import Text

from curse_cli.algebra.scales import format_monomial

PIPED_WIDTH = 160  # no terminal anywhere and no COLUMNS: a file, read with an editor


def safe(text: str) -> str:
    """`text` with control and other unprintable characters escaped (`\\x07`, `\\n`), so
    that a spec's name cannot move the cursor or split a line; other text as is."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def _value(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{safe(k)} {_value(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return safe(value)


def _scale(value: Any) -> str:
    try:
        exponent = Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        return safe(value)
    return format_monomial({"d": exponent}) if exponent else "1"


# The spec's size fields and the symbol of each size: a literal value there is an exponent
# of d, echoed as `S = d`, `N = 1`, `N1 = d^2` (never as a bare count such as `patch 1`).
SIZE_SYMBOLS = {"widths": "N", "channels": "N", "heads": "N", "patch": "S", "length": "L", "chi": "chi"}


def _literal(value: Any) -> Fraction | None:
    """The exponent a literal size stands for (None: a scale name)."""
    if isinstance(value, bool):
        return None
    try:
        return Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        return None


def _size(symbol: str, value: Any) -> str:
    exponent = _literal(value)
    return safe(value) if exponent is None else f"{symbol} = {_scale(exponent)}"


def _sizes(key: str, value: Any) -> str:
    """A size field as echoed: scale names as written, literals as `symbol = d^e`."""
    symbol = SIZE_SYMBOLS[key]
    if isinstance(value, (list, tuple)):
        names = [symbol] if len(value) == 1 else [f"{symbol}{i}" for i in range(1, len(value) + 1)]
        return "[" + ", ".join(_size(n, v) for n, v in zip(names, value, strict=False)) + "]"
    return _size(symbol, value)


def _block(value: Any) -> str:
    """A mapping of the spec (architecture, scaling, ...), its size fields as sizes."""
    def item(k: str, v: Any) -> str:
        if k not in SIZE_SYMBOLS:
            return f"{safe(k)} {_value(v)}"
        return _sizes(k, v) if SIZE_SYMBOLS[k] == k else f"{safe(k)} {_sizes(k, v)}"   # `chi = d`, not `chi chi = d`

    return ", ".join(item(k, v) for k, v in value.items())


def spec_fields(document: dict[str, Any], skip: Iterable[str] = ()) -> list[str]:
    """`architecture: kind fcn, activation erf, widths [N1, N2]`, `target: ...`, ...: one
    item per top-level field of the spec document except its name; scales as powers of d
    (`N1 = d^(3/2)`); the scales in `skip` (e.g. swept ones) are left out."""
    items = []
    for key, value in document.items():
        if key == "name" or value is None:
            continue
        if key == "scales":
            shown = [f"{safe(n)} = {_scale(v)}" for n, v in value.items() if n not in set(skip)]
            items.append("scales: " + (", ".join(shown) or "none"))
        elif isinstance(value, dict):
            items.append(f"{safe(key)}: {_block(value)}")
        else:
            items.append(f"{safe(key)}: {_value(value)}")
    return items


def header(document: dict[str, Any], origin: str, run: Iterable[str] = (), skip: Iterable[str] = ()) -> Text:
    """Two parts: the spec's name (escaped) or origin in bold, then the origin, every
    spec field and the run's options (`max order 4`), dim, separated by ` · `."""
    text = Text(f"{safe(document.get('name') or origin)}\n", style="bold")
    text.append(" · ".join([safe(origin), *spec_fields(document, skip), *run]), style="dim")
    return text


def width() -> int:
    """The width to render at: `COLUMNS` when set, else the terminal's (stdout's, or when
    piped, stderr's or stdin's: the terminal the user is looking at), else PIPED_WIDTH."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    for stream in (sys.stdout, sys.stderr, sys.stdin):
        try:
            if stream is not None and stream.isatty():
                return os.get_terminal_size(stream.fileno()).columns
        except (OSError, ValueError, AttributeError):
            continue
    return PIPED_WIDTH


def console() -> Console:
    """A console at `width()`; cells are plain strings such as "[E]": no markup parsing,
    highlighting or emoji."""
    return Console(width=width(), markup=False, highlight=False, emoji=False)


class Pieces:
    """A cell of pieces that may be broken only between pieces (`joiner` between them on
    one line): formulas between factors, pattern names after a `-`, size lists after a
    comma.  Its minimum width is its widest piece, so a table squeezes other columns
    rather than cut one."""

    def __init__(self, pieces: list[str], joiner: str = " ", style: str = "") -> None:
        self.pieces = [p for p in pieces if p] or [""]
        self.joiner = joiner
        self.style = style

    def __str__(self) -> str:
        return self.joiner.join(self.pieces)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(max(len(p.rstrip()) for p in self.pieces), len(str(self).rstrip()))

    def lines(self, limit: int) -> Iterator[str]:
        """Greedy lines of at most `limit` characters; a piece wider than the column (the
        table could not give it its minimum) is folded, never cut."""
        limit = max(1, limit)
        line = ""
        for whole in self.pieces:
            folds: list[str] = []
            piece = whole
            if len(whole.rstrip()) > limit:
                *folds, piece = [whole[i:i + limit] for i in range(0, len(whole), limit)]
            if folds:
                if line:
                    yield line.rstrip()
                yield from folds
                line = ""
            candidate = f"{line}{self.joiner}{piece}" if line else piece
            if line and len(candidate.rstrip()) > limit:
                yield line.rstrip()
                line = piece
            else:
                line = candidate
        yield line.rstrip()

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in self.lines(options.max_width):
            yield Segment(line, console.get_style(self.style) if self.style else None)
            yield Segment.line()


def no_cut(table: Any) -> Any:
    """Every column of a rich `Table` folds what does not fit (header too) instead of
    ending it with an ellipsis; returns the table."""
    for column in table.columns:
        column.overflow = "fold"
        column.no_wrap = False
    return table


def _least(cell: Any) -> int:
    """The narrowest a cell can be without cutting a piece (a `Pieces`) or a word."""
    if isinstance(cell, Pieces):
        return max(len(p.rstrip()) for p in cell.pieces)
    renderables = getattr(cell, "renderables", None)
    if renderables is not None:   # a Group of cells
        return max((_least(r) for r in renderables), default=0)
    text = cell.plain if isinstance(cell, Text) else str(cell)
    return max((len(word) for word in text.split()), default=0)


def fits(table: Any, columns: int | None = None) -> bool:
    """Whether `table` fits in `columns` (default: `width()`) with every column at least as
    wide as its widest unbreakable piece (a word, a number, a factor, a header word) or
    its fixed width: else rich would squeeze a column below that and fold inside a word.
    A column costs its content, a space either side and a rule between columns."""
    columns = columns if columns is not None else width()
    least = [max([_least(col.header), col.width or 0, *(_least(c) for c in col.cells)]) for col in table.columns]
    return sum(least) + 3 * len(least) - 1 <= columns


def stacked(blocks: Iterable[tuple[Any, list[tuple[str, Any]]]]) -> Any:
    """The per-pattern layout for a table too wide for the terminal: each row as a title
    (the pattern) and its cells below it, one `label  value` line each, values breaking
    only where their cells would."""
    from rich.console import Group
    from rich.padding import Padding
    from rich.table import Table

    parts: list[Any] = []
    for title, fields in blocks:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True, style="dim")
        grid.add_column(overflow="fold")
        for label, value in fields:
            grid.add_row(label, value)
        parts += [title, Padding(grid, (0, 0, 1, 4), expand=False)]
    return Group(*parts)


def _top_level(text: str, separator: str) -> list[str]:
    """Split at `separator` outside parentheses, keeping the separator on the left piece
    when it is not a space."""
    out, depth, start = [], 0, 0
    for i, c in enumerate(text):
        depth += (c == "(") - (c == ")")
        if depth == 0 and text.startswith(separator, i):
            keep = 0 if separator == " " else len(separator)
            out.append(text[start:i + keep])
            start = i + len(separator)
    out.append(text[start:])
    return out


def formula(text: str, style: str = "") -> Pieces:
    """`kappa (N1 N2 d)^(1/3)`: breaks only between factors."""
    return Pieces(_top_level(text, " "), " ", style)


def name(text: str, style: str = "") -> Pieces:
    """`Sp(z)-Sp(sigma1)-GP`, or a list `A = B`: breaks only after a `-` between layers or
    at a space."""
    pieces, depth, start = [], 0, 0
    text = safe(text)
    for i, c in enumerate(text):
        depth += (c == "(") - (c == ")")
        if depth == 0 and c in "- ":
            pieces.append(text[start:i + 1])
            start = i + 1
    pieces.append(text[start:])
    return Pieces(pieces, "", style)


def listing(items: list[str], style: str = "") -> Pieces:
    """`D1 ∝ (d^3/N)^(1/7), D2 ∝ ...`: breaks between factors and after commas."""
    pieces: list[str] = []
    for i, item in enumerate(items):
        words = _top_level(item, " ")
        if i < len(items) - 1:
            words[-1] += ","
        pieces += words
    return Pieces(pieces, " ", style)
