"""Result types of `curse simulate` and their documents (printing-free).

`curse.simulate/2` is one JSON document: the settings, every point with its independent
runs, the summary per `d`, the fit across `d` and the verdict (docs/simulate.md).  The
`--out` file is JSON Lines: a header line (`"kind": "header"`, the settings) and one line
per finished point (`"kind": "point"`).  Points are pydantic models: the line written is
the model's JSON, and `--resume` reads every line back through the same model before any
work, so a damaged line is one error naming its number.  No float in a point may be NaN
or infinite (the model refuses them); what a sampler could not measure is `null`.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SCHEMA = "curse.simulate/2"
Start = Literal["prior", "teacher"]
SamplerName = Literal["smc", "mala", "hmc"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, strict=True)


class Run(_Frozen):
    """One independent run at a point: an SMC population (smc), or one chain (mala, hmc)."""

    seed: int
    start: Start = "prior"
    alignment: float | None         # of the run's posterior-mean predictor; None when it failed
    log_evidence: float | None      # log Z of the run (smc)
    ess: float | None               # effective sample size of its final weights (smc)
    stages: int | None              # tempering stages (smc)
    specialists: float | None       # the family's count, posterior mean
    seconds: float
    failure: str | None = None      # why the run gave no number


class PointResult(_Frozen):
    """One (d, P) point: its runs, their pooled alignment and whether they agree."""

    kind: Literal["point"] = "point"
    d: int
    p: int
    widths: tuple[int, ...]
    p_scaled: float                 # P / d^[P*]
    sampler: SamplerName
    runs: tuple[Run, ...]
    alignment: float | None         # mean of the runs' alignments
    spread: float | None            # largest minus smallest run alignment
    equilibrated: bool
    reason: str | None              # why the point is not equilibrated
    mse: float | None               # test MSE of the runs' mean predictor / <y, y>
    gp_alignment: float | None      # exact GP regression with the infinite-width kernel
    gp_mse: float | None
    specialists: float | None
    seconds: float

    @property
    def failed(self) -> bool:
        return any(r.failure is not None for r in self.runs)


class Header(_Frozen):
    """The first line of an --out file: the schema and the settings of the run."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, populate_by_name=True)

    schema_name: Literal["curse.simulate/2"] = Field("curse.simulate/2", alias="schema")
    kind: Literal["header"] = "header"
    settings: dict[str, Any]


def finite(value: float | None) -> float | None:
    """`value`, or None where it is missing or not a finite number."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


class Status(Enum):
    AGREE = "agree"
    DISAGREE = "disagree"
    NOT_EQUILIBRATED = "not equilibrated"
    INCONCLUSIVE = "inconclusive"
    DYNAMICS = "dynamics"           # mala / hmc: two starts, never an equilibrium claim


@dataclass(frozen=True)
class Curve:
    """One d: P_half from its equilibrated points, its bootstrap interval over runs, the GP's."""

    d: int
    widths: tuple[int, ...]
    p_half: float | None
    p_half_low: float | None
    p_half_high: float | None
    gp_p_half: float | None
    p_half_note: str | None
    p_half_prior: float | None      # dynamics: from the prior-start chains only
    p_half_teacher: float | None    # dynamics: from the teacher-start chains only
    specialists: float | None       # at the largest equilibrated P of this d
    specialists_null: float | None  # fcn: expected false positives under the prior


@dataclass(frozen=True)
class Fit:
    """Exponent b of P_half ∝ d^b: least squares in log-log, bootstrap over runs."""

    b: float | None
    low: float | None
    high: float | None
    replicates: int
    gp_b: float | None
    b_prior: float | None
    b_teacher: float | None
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
    status: Status
    reason: str
    unequilibrated: tuple[str, ...] = ()   # "d=32 P=512: runs differ by 0.11 > 0.05"


@dataclass(frozen=True)
class SimulateReport:
    settings: dict[str, Any]
    predicted: Predicted
    points: tuple[PointResult, ...]
    curves: tuple[Curve, ...]
    fit: Fit
    verdict: Verdict
    notes: tuple[str, ...] = ()


def _plain(obj: Any) -> Any:
    doc = asdict(obj)
    return {k: (list(v) if isinstance(v, tuple) else finite(v) if isinstance(v, float) else v)
            for k, v in doc.items()}


def point_json(point: PointResult) -> dict[str, Any]:
    return point.model_dump(mode="json", exclude={"kind"})


def report_json(report: SimulateReport) -> dict[str, Any]:
    verdict = _plain(report.verdict)
    verdict["status"] = report.verdict.status.value
    return {
        "schema": SCHEMA,
        "settings": report.settings,
        "predicted": _plain(report.predicted),
        "points": [point_json(p) for p in report.points],
        "curves": [_plain(c) for c in report.curves],
        "fit": _plain(report.fit),
        "verdict": verdict,
        "notes": list(report.notes),
    }


CSV_COLUMNS = ("d", "p", "widths", "p_scaled", "sampler", "alignment", "spread", "equilibrated", "reason", "mse",
               "gp_alignment", "gp_mse", "specialists", "runs", "run_alignments", "run_log_evidence", "seconds")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"   # as `curse sweep` writes booleans
    return str(value)


def report_csv(report: SimulateReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for p in report.points:
        row = point_json(p)
        row["widths"] = "x".join(str(n) for n in p.widths)
        row["runs"] = len(p.runs)
        row["run_alignments"] = " ".join(_cell(r.alignment) for r in p.runs)
        row["run_log_evidence"] = " ".join(_cell(r.log_evidence) for r in p.runs)
        writer.writerow([_cell(row[c]) for c in CSV_COLUMNS])
    return out.getvalue()


def header_line(settings: dict[str, Any]) -> str:
    return Header.model_validate({"schema": SCHEMA, "kind": "header", "settings": settings}).model_dump_json(
        by_alias=True)


def point_line(point: PointResult) -> str:
    return point.model_dump_json()


# Settings that a finished point does not depend on: a resumed run may change them (and
# the grid of P ratios too, where every point is tempered from the prior).
FREE = frozenset({"ds", "device"})


class ResumeError(ValueError):
    """An --out file that cannot be continued: one line, exit 2."""


def _first_error(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "line"
    return f"{where}: {first['msg']}"


@dataclass(frozen=True)
class Continued:
    """What an --out file holds: its finished points, and the length of its whole lines
    (a last line cut off by a kill lies beyond it, and is cut away before appending)."""

    points: tuple[PointResult, ...]
    whole_bytes: int


def read_jsonl(path: str, settings: dict[str, Any], free: frozenset[str] = FREE) -> Continued:
    """The finished points of `path`, which must have been written with `settings`; every
    line is checked before anything runs."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise ResumeError(f"--resume: {path} line {line}: not UTF-8 text; the file is damaged") from None
    lines = text.split("\n")
    numbered = [(i, line) for i, line in enumerate(lines, start=1) if line.strip()]
    if not numbered:
        raise ResumeError(f"--resume: {path} is empty; remove it or name another --out file")
    first_no, first_line = numbered[0]
    try:
        old = Header.model_validate_json(first_line).settings
    except ValidationError:
        raise ResumeError(f"--resume: {path} line {first_no}: not a {SCHEMA} header; "
                          "it is not an --out file of this version of curse simulate") from None
    changed = sorted(k for k in set(old) | set(settings) if k not in free and old.get(k) != settings.get(k))
    if changed:
        raise ResumeError(f"--resume: {path} was written with other settings ({', '.join(changed)}); "
                          "rerun with the same options or another --out file")
    points = []
    cut = not text.endswith("\n")
    whole = len(raw) if not cut else raw.rfind(b"\n") + 1
    for no, text_line in numbered[1:]:
        try:
            points.append(PointResult.model_validate_json(text_line))
        except ValidationError as err:
            if cut and no == len(lines):
                break   # the half-written last line of a killed run
            raise ResumeError(f"--resume: {path} line {no}: {_first_error(err)}; the file is damaged") from None
    return Continued(tuple(points), whole)
