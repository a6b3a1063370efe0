"""Every limit `curse` puts on its input and its work, in one place: what it bounds, its
default, the most it may be raised to, and why (docs/limits.md explains each one).

The spec loader and the engine check these before any work and raise `LimitExceeded`,
which says which limit (`WorkLimit`) and by how much, never how a caller raises it: the
CLI maps each limit to its option.  A limit may be raised up to its `ceiling` (a run
there still finishes); beyond that nothing is advised.  This module imports nothing of
curse but the error base, so that `--help` can quote it at once.
"""

from __future__ import annotations

import enum
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from curse_cli.errors import CurseError


class WorkLimit(enum.Enum):
    """Which limit an input ran into."""

    DEPTH = "depth"                          # hidden layers of a search (predict, compare, depth, sweep)
    DEPTH_EXPLAIN = "depth-explain"          # hidden layers of one named pattern (explain)
    DEPTH_HOMOGENEOUS = "depth-homogeneous"  # hidden layers of a ReLU-like activation
    DEPTH_GROWING_CHI = "depth-growing-chi"  # hidden layers of a search whose readout scale grows
    DEGREE = "degree"                        # the target's Hermite degree
    POWER = "power"                          # the activation's largest Hermite order or Taylor power
    TERMS = "terms"                          # the activation's Taylor powers: how many times the highest
    PATTERNS = "patterns"                    # candidate patterns scored one by one (--all)
    LISTED = "listed"                        # candidate patterns listed by name, unscored (patterns)
    ORDER = "order"                          # an expert truncation of Hermite orders
    EXPONENT = "exponent"                    # |exponent of d| of a size
    DENOMINATOR = "denominator"              # common denominator of the exponents
    PIECES = "pieces"                        # reachable pieces of a polynomial target (the staircase's sets)


@dataclass(frozen=True)
class Rule:
    """One limit: what it counts, its default, the most it may be raised to (None: it is
    fixed), and why it is there (measured costs are those of docs/limits.md)."""

    what: str
    default: int
    ceiling: int | None
    why: str


RULES: dict[WorkLimit, Rule] = {
    WorkLimit.DEPTH: Rule(
        "hidden layers", 6, 8,
        "a search grows about fivefold per layer: six erf layers take about 2 s, seven 5 to 40 s, eight up to "
        "about 100 s"),
    WorkLimit.DEPTH_EXPLAIN: Rule(
        "hidden layers", 6, 12,
        "one pattern is scored alone: a chain of twelve specialised layers takes about 5 s, sixteen a minute"),
    WorkLimit.DEPTH_HOMOGENEOUS: Rule(
        "hidden layers of a ReLU-like activation", 5, 6,
        "their input scales multiply the terms of each layer: about 3 s at five layers, 30 s at six"),
    WorkLimit.DEPTH_GROWING_CHI: Rule(
        "hidden layers of a search with a growing readout scale", 5, 5,
        "mean-field searches bound few patterns away: about 5 s at five layers, more than five minutes at six"),
    WorkLimit.DEGREE: Rule(
        "target degree", 12, 400,
        "the kernels track every Hermite order up to the degree, and with two or more hidden layers the work grows "
        "about tenfold per two degrees: degree 13 takes about 5 s, 15 about 35 s and 1.4 GB"),
    WorkLimit.POWER: Rule(
        "activation order", 16, 64,
        "each power of a polynomial activation multiplies the terms of every layer: a dense polynomial of degree "
        "16 takes about 3 s at two hidden layers, of degree 6 more than 30 s at three; one layer answers degree "
        "64 at once"),
    WorkLimit.TERMS: Rule(
        "Taylor powers times the highest power", 4096, None,
        "each layer raises the terms of the one below to every power of a polynomial activation, so the work "
        "grows with how many powers it has and how high they go: at four hidden layers v^3 (1 power times 3) "
        "and 1 + v + v^2 (2 times 2) answer in about a second, v + v^3 (2 times 3) and v^5 take about 20 to 30 s, "
        "1 + v + v^2 + v^3 (3 times 3) more than five minutes; at five, v^3 more than a minute"),
    WorkLimit.PATTERNS: Rule(
        "candidate patterns", 2000, 5000,
        "ranking every pattern scores each one: four layers (299 patterns) take about 7 s, 5000 patterns a few "
        "minutes"),
    WorkLimit.LISTED: Rule(
        "candidate patterns listed", 200_000, 2_500_000,
        "listing names scores nothing: seven layers (189,171 patterns) take about 2 s, eight (2,183,339) about 20 s"),
    WorkLimit.ORDER: Rule(
        "Hermite order of an expert truncation", 12, 12,
        "an override above the safe truncation adds work and changes no exponent"),
    WorkLimit.EXPONENT: Rule(
        "|exponent of d|", 1000, None,
        "exponents are certified exactly after a float solve whose tolerance is about 1e-7: beyond about a "
        "thousand two different exponents can no longer be told apart"),
    WorkLimit.DENOMINATOR: Rule(
        "common denominator of the exponents", 1000, None,
        "for the same reason as the exponents: the solve must separate values one denominator apart"),
    WorkLimit.PIECES: Rule(
        "reachable pieces of a polynomial target", 12, None,
        "the staircase may solve a programme for every set of the reachable pieces: twelve pieces have 4,095 "
        "sets"),
}

DEFAULT_MAX_DEPTH = RULES[WorkLimit.DEPTH].default
DEFAULT_HOMOGENEOUS_DEPTH = RULES[WorkLimit.DEPTH_HOMOGENEOUS].default
DEFAULT_GROWING_CHI_DEPTH = RULES[WorkLimit.DEPTH_GROWING_CHI].default
DEFAULT_MAX_DEGREE = RULES[WorkLimit.DEGREE].default
DEFAULT_MAX_POWER = RULES[WorkLimit.POWER].default
DEFAULT_MAX_PATTERNS = RULES[WorkLimit.PATTERNS].default
PATTERN_CEILING = RULES[WorkLimit.PATTERNS].ceiling
MAX_EXPONENT = RULES[WorkLimit.EXPONENT].default
MAX_DENOMINATOR = RULES[WorkLimit.DENOMINATOR].default
MAX_PIECES = RULES[WorkLimit.PIECES].default
DEFAULT_TOP = 5   # patterns predict and compare rank by best-first search unless --all

# Where the work grows with the depth as well, the most a limit may be raised to at each
# number of hidden layers: the largest value measured to finish in about ten seconds (erf
# targets with every width d for the degree; a dense polynomial, every coefficient 1, for
# the power, whose products multiply per layer).  Past the last depth listed, its entry.
CEILING_BY_DEPTH = {
    WorkLimit.DEGREE: {1: 400, 2: 13, 3: 13, 4: 13},
    WorkLimit.POWER: {1: 64, 2: 16, 3: 4, 4: 3},
    WorkLimit.TERMS: {1: 4096, 2: 256, 3: 16, 4: 4, 5: 2},
}

# Measured runs beyond the `TERMS` ceiling (depth: (product, what ran, how long)), quoted
# as the estimate of a refusal: the largest measured product not above the one asked.
TERMS_MEASURED = {
    3: ((25, "1 + v + ... + v^5", "about 16 s"), (36, "a dense polynomial of degree 6", "more than 30 s")),
    4: ((5, "v^5", "about 28 s"), (6, "v + v^3", "about 20 s"), (9, "1 + v + v^2 + v^3", "more than five minutes")),
    5: ((3, "v^3", "more than a minute"), (4, "v + v^2", "about 22 s")),
}


def terms_estimate(depth: int, product: int) -> str:
    """What a product of Taylor powers beyond the ceiling costs, from the nearest
    measured run at the same depth or a shallower one (a deeper run costs more)."""
    for at in sorted((d for d in TERMS_MEASURED if d <= depth), reverse=True):
        runs = [run for run in TERMS_MEASURED[at] if run[0] <= product]
        if runs:
            measured, which, took = runs[-1]
            deeper = "" if at == depth else f", and {depth} layers take longer"
            return (f"each layer raises the terms below to every power, so the work grows with how many powers and "
                    f"how high: at {at} hidden layers {which} ({measured}) took {took}{deeper}")
    return ""


def ceiling(limit: WorkLimit, depth: int) -> int | None:
    """The most `limit` may be raised to for a network of `depth` hidden layers."""
    table = CEILING_BY_DEPTH.get(limit)
    if table is None:
        return RULES[limit].ceiling
    return table.get(depth, table[max(table)])


def degree_ceiling(depth: int) -> int:
    """The highest target degree a run at `depth` hidden layers may be raised to."""
    top = ceiling(WorkLimit.DEGREE, depth)
    assert top is not None
    return top


class LimitExceeded(CurseError):
    """An input beyond one of the limits, refused before any work.

    `limit` says which, `value` how much was asked and `bound` the limit in force;
    `ceiling` is the most the limit may be raised to for this input (None: it cannot be
    raised so far, and nothing is advised).  The text names no option of any caller."""

    def __init__(self, limit: WorkLimit, value: int, bound: int, subject: str, ceiling: int | None,
                 estimate: str = "") -> None:
        self.limit, self.value, self.bound, self.ceiling = limit, value, bound, ceiling
        self.subject, self.estimate = subject, estimate
        self.origin: str | None = None   # the spec the problem was read from, once known (`naming`)
        super().__init__(self.message)

    @property
    def raisable(self) -> bool:
        """Whether raising the limit to `value` is a run that finishes."""
        return self.ceiling is not None and self.value <= self.ceiling

    @property
    def message(self) -> str:
        why = self.estimate or RULES[self.limit].why
        return f"{self.subject} is {self.value}, above the limit of {self.bound} ({why})"


@contextmanager
def naming(origin: str) -> Iterator[None]:
    """Limit errors raised inside carry `origin`, the spec they are about (the engine
    sees a `Problem`, not its file), for a caller to name with the field."""
    try:
        yield
    except LimitExceeded as err:
        if err.origin is None:
            err.origin = origin
        raise
