"""Exact linear relations between swept scale exponents, such as `[N1] = [N2]`."""

from __future__ import annotations

from fractions import Fraction
from math import gcd, lcm
from typing import Sequence

import numpy as np

from curse_cli.archs.problem import Problem
from curse_cli.algebra.scales import BASE, Monomial
from curse_cli.sweeps.report import Axis, Relation


def relation(problem: Problem, axes: Sequence[Axis], form: Monomial) -> Relation | None:
    """`[form] = 0` as a relation between the swept exponents (other scales at their
    values); None if `form` does not involve them."""
    names = [a.name for a in axes]
    values = problem.scale_values()
    constant = form.power(BASE) + sum((p * values[n] for n, p in form.items() if n != BASE and n not in names),
                                      Fraction(0))
    coeffs = [form.power(n) for n in names]
    if not any(coeffs):
        return None
    den = lcm(*(c.denominator for c in (*coeffs, constant)))
    ints = [int(c * den) for c in (*coeffs, constant)]
    g = 0
    for v in ints:
        g = gcd(g, v)
    sign = 1 if next(v for v in ints if v) > 0 else -1
    ints = [sign * v // g for v in ints]
    *cs, c0 = ints
    return Relation(Fraction(c0), tuple(Fraction(c) for c in cs), relation_text(names, cs, c0))


def relation_text(names: Sequence[str], coeffs: Sequence[int], constant: int) -> str:
    """`sum c_i [x_i] + c0 = 0` written with positive terms on both sides."""
    def side(terms: list[tuple[int, str | None]]) -> str:
        parts = []
        for c, n in terms:
            if n is None:
                parts.append(str(c))
            else:
                parts.append(f"[{n}]" if c == 1 else f"{c}[{n}]")
        return " + ".join(parts) if parts else "0"

    left: list[tuple[int, str | None]] = [(c, n) for c, n in zip(coeffs, names) if c > 0]
    right: list[tuple[int, str | None]] = [(-c, n) for c, n in zip(coeffs, names) if c < 0]
    if constant > 0:
        left.append((constant, None))
    elif constant < 0:
        right.append((-constant, None))
    if not left:
        left, right = right, left
    return f"{side(left)} = {side(right)}"


def root(rel: Relation) -> Fraction:
    """The one-dimensional relation's solution."""
    return -rel.constant / rel.coefficients[0]


def on_grid(constant: Fraction, coefficients: Sequence[Fraction], axes: Sequence[Axis], idx: Sequence[np.ndarray]
            ) -> tuple[np.ndarray, int]:
    """`constant + sum(coefficients[i] [axis_i])` at grid points given by their index
    arrays (one per axis), exactly: as integers over one positive denominator, since the
    form is integer-affine in the indices once scaled.  int64 when it cannot overflow."""
    a0 = constant + sum((c * a.start for c, a in zip(coefficients, axes)), Fraction(0))
    slopes = [c * a.step for c, a in zip(coefficients, axes)]
    den = lcm(a0.denominator, *(c.denominator for c in slopes))
    ints = [int(c * den) for c in slopes]
    big = abs(int(a0 * den)) + sum(abs(c) * a.count for c, a in zip(ints, axes))
    dtype = np.int64 if big < 2**62 else object
    value = np.full(len(idx[0]) if len(idx) else 1, int(a0 * den), dtype=dtype)
    for c, i in zip(ints, idx):
        if c:
            value = value + c * np.asarray(i).astype(dtype)
    return value, den
