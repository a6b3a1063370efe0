"""Result types of `curse simulate` (frozen, printing-free) and their documents.

`curse.simulate/1` is one JSON document: the settings, every point, the summary per `d`,
the fit across `d` and the verdict (documented in docs/simulate.md).  The `--out` file is
JSON Lines: a header line (`"kind": "header"`, the settings) and one line per finished
point (`"kind": "point"`), each written whole and flushed, so an interrupted run leaves a
valid file that `--resume` continues.  CSV has one row per point.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import asdict, dataclass, fields
from typing import Any

SCHEMA = "curse.simulate/1"


@dataclass(frozen=True)
class PointResult:
    """One (d, P) point: alignment of the posterior-mean predictor from both starts."""

    d: int
    p: int
    widths: tuple[int, ...]
    p_scaled: float               # P / d^[P*]
    alignment: float              # all chains; mean of chain means
    alignment_se: float
    alignment_prior: float        # chains started from the prior
    alignment_prior_se: float
    alignment_teacher: float      # chains started teacher-aligned
    alignment_teacher_se: float
    rhat: float                   # split R-hat of the alignment, all chains
    equilibrated: bool
    mse: float                    # test MSE of the posterior-mean predictor / <y, y>
    gp_alignment: float           # exact GP regression, infinite-width kernel
    gp_mse: float
    specialists: float            # mean count of |w_i.w*| sqrt(d) > 3, first layer
    specialists_prior: float
    specialists_teacher: float
    acceptance: float
    step_size: float
    chain_alignment: tuple[float, ...]    # per chain (prior starts first)
    chain_specialists: tuple[float, ...]
    seconds: float

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["widths"] = list(self.widths)
        doc["chain_alignment"] = list(self.chain_alignment)
        doc["chain_specialists"] = list(self.chain_specialists)
        return {k: _finite(v) for k, v in doc.items()}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> PointResult:
        values = {f.name: doc[f.name] for f in fields(cls)}
        for name in ("widths", "chain_alignment", "chain_specialists"):
            values[name] = tuple(values[name])
        values["rhat"] = math.inf if values["rhat"] is None else values["rhat"]
        return cls(**values)


@dataclass(frozen=True)
class Curve:
    """One d: P_half of the network and of the GP, and the specialists at the largest P."""

    d: int
    widths: tuple[int, ...]
    p_half: float | None
    gp_p_half: float | None
    p_half_note: str | None
    p_half_prior: float | None    # from the prior-start chains only (an upper side when stuck low)
    p_half_teacher: float | None  # from the teacher-start chains only (a lower side when stuck high)
    specialists: float            # at the largest P of this d
    specialists_null: float       # expected false positives under the prior: N1 erfc(3/sqrt 2)


@dataclass(frozen=True)
class Fit:
    """Exponent b of P_half ∝ d^b: least squares in log-log, percentile bootstrap interval."""

    b: float | None
    low: float | None
    high: float | None
    replicates: int               # bootstrap replicates in which every P_half existed
    gp_b: float | None
    b_prior: float | None         # the same fit on the prior-start chains only
    b_teacher: float | None       # and on the teacher-start chains only
    specialists_slope: float | None


@dataclass(frozen=True)
class Predicted:
    """`curse predict` on the same spec."""

    pattern: str | None
    p_star: str | None
    p_star_exponent: str | None   # exact, e.g. "1"
    m_label: str | None
    m_formula: str | None
    m_exponent: str | None
    unreachable: str | None


@dataclass(frozen=True)
class Verdict:
    status: str                   # agree | disagree | not equilibrated | inconclusive
    reason: str


@dataclass(frozen=True)
class SimulateReport:
    settings: dict[str, Any]
    predicted: Predicted
    points: tuple[PointResult, ...]
    curves: tuple[Curve, ...]
    fit: Fit
    verdict: Verdict


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _plain(obj: Any) -> Any:
    doc = asdict(obj)
    return {k: (list(v) if isinstance(v, tuple) else _finite(v)) for k, v in doc.items()}


def report_json(report: SimulateReport) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "settings": report.settings,
        "predicted": _plain(report.predicted),
        "points": [p.to_json() for p in report.points],
        "curves": [_plain(c) for c in report.curves],
        "fit": _plain(report.fit),
        "verdict": _plain(report.verdict),
    }


CSV_COLUMNS = ("d", "p", "widths", "p_scaled", "alignment", "alignment_se", "alignment_prior",
               "alignment_prior_se", "alignment_teacher", "alignment_teacher_se", "rhat", "equilibrated",
               "mse", "gp_alignment", "gp_mse", "specialists", "specialists_prior", "specialists_teacher",
               "acceptance", "step_size", "seconds")


def report_csv(report: SimulateReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for p in report.points:
        row = p.to_json()
        row["widths"] = "x".join(str(n) for n in p.widths)
        writer.writerow(["" if row[c] is None else row[c] for c in CSV_COLUMNS])
    return out.getvalue()


def header_line(settings: dict[str, Any]) -> str:
    return json.dumps({"schema": SCHEMA, "kind": "header", "settings": settings}, sort_keys=True)


def point_line(point: PointResult) -> str:
    return json.dumps({"kind": "point", **point.to_json()}, sort_keys=True)


# Settings that a finished point does not depend on: a resumed run may change them.
FREE = frozenset({"ds", "p_ratios", "device"})


class ResumeError(ValueError):
    """An --out file that cannot be continued: one line, exit 2."""


def read_jsonl(path: str, settings: dict[str, Any]) -> tuple[PointResult, ...]:
    """The finished points of `path`, which must have been written with `settings`.
    A last line cut off mid-write (a kill, not Ctrl-C) is ignored."""
    with open(path, encoding="utf-8") as fh:
        lines = [line for line in fh.read().split("\n") if line.strip()]
    if not lines:
        return ()
    try:
        head = json.loads(lines[0])
    except json.JSONDecodeError:
        raise ResumeError(f"--resume: {path} is not a curse simulate --out file") from None
    if head.get("schema") != SCHEMA or head.get("kind") != "header":
        raise ResumeError(f"--resume: {path} is not a {SCHEMA} --out file")
    old = head.get("settings", {})
    changed = sorted(k for k in set(old) | set(settings) if k not in FREE and old.get(k) != settings.get(k))
    if changed:
        raise ResumeError(f"--resume: {path} was written with other settings ({', '.join(changed)}); "
                          "rerun with the same options or another --out file")
    points = []
    for i, line in enumerate(lines[1:], start=2):
        try:
            doc = json.loads(line)
        except json.JSONDecodeError:
            if i == len(lines):
                break
            raise ResumeError(f"--resume: {path} line {i} is not JSON; the file is damaged") from None
        if doc.get("kind") == "point":
            points.append(PointResult.from_json(doc))
    return tuple(points)
