"""`curse simulate`: sample the posterior of the finite network and measure P*.

The only module of the package that talks to the terminal.  JAX and BlackJAX (the
`simulate` extra) are imported only once the options are parsed; without them the command
says in one line how to install them.  Every size is checked, and the memory of the run
estimated, before any work; `--out` is only ever created new or appended to.  The model,
samplers and measurements are described in docs/simulate.md.
"""

from __future__ import annotations

import json
import math
import os
import signal
import stat
import sys
from collections.abc import Callable
from contextlib import closing

import click

from curse_cli.cli.common import NumberList, UserError
from curse_cli.cli.layout import console
from curse_cli.cli.plotfile import PlotError, check_plot, save
from curse_cli.simulate.limits import LIMITS, check_counts, physical_memory

INSTALL_HINT = "pip install 'curse[simulate]' (or pip install '.[simulate]' from a checkout)"
DEFAULT_RATIOS = "1,2,4,8,16,32"

D_VALUES = NumberList("D,D,...", int, "8,16,32", lambda d: 2 <= d <= LIMITS.d, f"every d must be an integer "
                      f"from 2 to {LIMITS.d}")
P_RATIOS = NumberList("R,R,...", float, "1,2,4", lambda r: math.isfinite(r) and 0 < r <= LIMITS.p_ratio,
                      f"every ratio must be a positive number up to {LIMITS.p_ratio:g}", at_least=2,
                      why="a curve needs two points", dedupe=True)


class Finite(click.ParamType):
    """A finite number in [low, high] (NaN and infinities refused while parsing)."""

    name = "number"

    def __init__(self, low: float, high: float, why: str) -> None:
        self.low, self.high, self.why = low, high, why

    def convert(self, value, param, ctx):
        if isinstance(value, float):
            return value
        try:
            x = float(value)
        except ValueError:
            self.fail(f"{value!r} is not a number", param, ctx)
        if not (math.isfinite(x) and self.low <= x <= self.high):
            self.fail(f"{value!r} is not a finite number from {self.low:g} to {self.high:g} ({self.why})", param, ctx)
        return x


class OneLineCommand(click.Command):
    """A bad option is one line (`Error: Invalid value for '--d': ...`), exit 2, without
    the usage block."""

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as err:
            raise UserError(" ".join(err.format_message().split())) from None


def _require_jax() -> None:
    try:
        import blackjax  # noqa: F401
        import jax  # noqa: F401
    except ImportError:
        raise UserError(f"curse simulate needs JAX and BlackJAX: {INSTALL_HINT}") from None


def _check_device(device: str) -> None:
    import jax

    try:
        jax.devices(device)
    except RuntimeError:
        hint = "install a GPU build of JAX (pip install 'jax[cuda12]')" if device == "gpu" else "use --device gpu"
        raise UserError(f"--device {device}: JAX sees no {device.upper()} here; {hint}") from None


def _check_out(out: str, spec: str, resume: bool) -> bool:
    """Whether --out exists (then --resume continues it); refuse anything but a new file
    or, with --resume, an existing regular file that is not the spec."""
    if not os.path.lexists(out):
        return False
    if os.path.islink(out):
        raise UserError(f"--out {out}: is a symbolic link; name the file itself or a new file")
    mode = os.stat(out).st_mode
    if stat.S_ISDIR(mode):
        raise UserError(f"--out {out}: is a directory; name a file such as {os.path.join(out, 'run.jsonl')}")
    if not stat.S_ISREG(mode):
        raise UserError(f"--out {out}: is not a regular file; name a new file such as run.jsonl")
    if os.path.exists(spec) and os.path.samefile(out, spec):
        raise UserError(f"--out {out}: is the spec itself; name a new file such as run.jsonl")
    if not resume:
        stem, ext = os.path.splitext(out)
        raise UserError(f"--out {out}: exists; add --resume to continue it, or name a new file "
                        f"(e.g. {stem}-2{ext or '.jsonl'})")
    return True


def _open_out(out: str, doc: dict, whole_bytes: int | None) -> int:
    """A descriptor appending to --out: a new file with its header, or the resumed file
    cut back to its last whole line (a line half-written by a kill)."""
    from curse_cli.simulate.report import header_line

    try:
        if whole_bytes is None:
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_NOFOLLOW, 0o644)
            _write(fd, header_line(doc))
            return fd
        fd = os.open(out, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW)
        if os.fstat(fd).st_size > whole_bytes:
            os.ftruncate(fd, whole_bytes)
        return fd
    except OSError as err:
        raise UserError(f"--out {out}: cannot write the file: {err.strerror or err}") from None


def _write(fd: int, line: str) -> None:
    data = (line + "\n").encode("utf-8")
    while data:
        data = data[os.write(fd, data):]


SAMPLER_HELP = ("smc: tempered sequential Monte Carlo from the prior, independent runs judge equilibrium; "
                "mala/hmc: chains from two starts, for studying dynamics only.")


@click.command("simulate", cls=OneLineCommand)
@click.argument("spec", metavar="SPEC")
@click.option("--d", "ds", type=D_VALUES, default="8,16,32", show_default=True,
              help="Input dimensions (comma list of integers); widths N = round(width-factor d^[N]).")
@click.option("--p-ratio", "p_ratios", type=P_RATIOS, default=DEFAULT_RATIOS, show_default=True,
              help="Sample sizes P = round(r d^[P*]) for each ratio r (comma list).")
@click.option("--width-factor", type=Finite(1e-6, LIMITS.width_factor, "widths are this times d^[N]"), default=1.0,
              show_default=True, help="Widths are this times d^[N].")
@click.option("--kappa", type=Finite(LIMITS.kappa_min, LIMITS.kappa_max, "the noise variance"), default=0.1,
              show_default=True, help="Noise variance (temperature) of the likelihood.")
@click.option("--sampler", type=click.Choice(["smc", "mala", "hmc"]), default="smc", show_default=True,
              help=SAMPLER_HELP)
@click.option("--particles", type=click.IntRange(16, LIMITS.particles), default=256, show_default=True,
              help="smc: particles per run.")
@click.option("--runs", type=click.IntRange(1, LIMITS.runs), default=2, show_default=True,
              help="smc: independent runs per point; a point is equilibrated when they agree.")
@click.option("--agreement", type=Finite(0.0, 1.0, "an alignment difference"), default=0.05, show_default=True,
              help="smc: runs agree when their alignments lie within this.")
@click.option("--anneal/--no-anneal", default=False, show_default=True,
              help="smc: carry each P's population to the next P of the grid (data annealing), or temper "
                   "every point from the prior.")
@click.option("--mutations", type=click.IntRange(1, LIMITS.mutations), default=10, show_default=True,
              help="smc: HMC steps per tempering stage.")
@click.option("--chains", type=click.IntRange(2, LIMITS.chains), default=4, show_default=True,
              help="mala/hmc: chains per start (prior and teacher-aligned), so 2x this in all.")
@click.option("--warmup", type=click.IntRange(0, LIMITS.steps), default=1000, show_default=True,
              help="mala/hmc: warm-up steps per chain (step-size adaptation; discarded).")
@click.option("--samples", type=click.IntRange(4, LIMITS.steps), default=1000, show_default=True,
              help="mala/hmc: recorded steps per chain.")
@click.option("--thin", type=click.IntRange(1, LIMITS.steps), default=5, show_default=True,
              help="mala/hmc: measure every thin-th sampling step.")
@click.option("--test-size", type=click.IntRange(16, LIMITS.test_size), default=512, show_default=True,
              help="Fresh test inputs per d.")
@click.option("--seed", type=click.IntRange(0, LIMITS.seed), default=0, show_default=True,
              help="Same seed, same numbers.")
@click.option("--device", type=click.Choice(["cpu", "gpu"]), default="cpu", show_default=True,
              help="Where the particles run; with several GPUs they are sharded across them.")
@click.option("--tolerance", type=Finite(0.0, 10.0, "slack on the exponent"), default=0.25, show_default=True,
              help="Slack on the fitted exponent's interval when judging agreement.")
@click.option("--set", "overrides", multiple=True, metavar="NAME=VALUE", help="Override a scale of the spec.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--plot", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Draw the curves and the collapse (.png or .svg; needs matplotlib).")
@click.option("--out", type=click.Path(), default=None, metavar="FILE.jsonl",
              help="Append each finished point to this new JSON Lines file as it goes.")
@click.option("--resume", is_flag=True, help="Continue the run in --out, skipping its finished points.")
@click.pass_context
def simulate_cmd(ctx, spec: str, **opts) -> None:
    """Sample the Bayesian posterior of the finite network and measure P* against 'curse predict'.

    For each d and P on the grid, independent tempered-SMC runs sample the hidden weights
    (readout integrated out exactly) on the same data; the alignment of the posterior-mean
    predictor with the target is measured on fresh data, beside exact GP regression.  A
    point is equilibrated when its runs agree; P_half(d), where the alignment crosses 1/2,
    is fitted as d^b over the equilibrated points.
    """
    facts, exists = prepare(spec, opts)
    from curse_cli.simulate.analysis import summarise
    from curse_cli.simulate.experiment import Settings, Setup, chain_point, grid, notes, smc_points
    from curse_cli.simulate.sampler import SamplerConfig
    from curse_cli.simulate.smc import SMCConfig

    setup = Setup(facts=facts, kappa=opts["kappa"], width_factor=opts["width_factor"])
    config = SMCConfig(particles=opts["particles"], mutations=opts["mutations"])
    settings = Settings(ds=opts["ds"], p_ratios=opts["p_ratios"], test_size=opts["test_size"], seed=opts["seed"],
                        sampler=opts["sampler"], runs=opts["runs"], smc=config, anneal=opts["anneal"],
                        agreement=opts["agreement"],
                        chains=SamplerConfig(kind="hmc" if opts["sampler"] == "hmc" else "mala",
                                             warmup=opts["warmup"], samples=opts["samples"], thin=opts["thin"]),
                        chains_per_start=opts["chains"], device=opts["device"])
    refuse_large(setup, settings)
    doc = settings_doc(facts, opts, config)
    out = opts["out"]
    done = {}
    whole = None
    if exists:
        continued = resumed(out, doc)
        done, whole = {(p.d, p.p): p for p in continued.points}, continued.whole_bytes
    wanted = grid(setup, settings)
    results = dict(done)
    fd = _open_out(out, doc, whole) if out is not None else None
    ctrl_c = CtrlC()
    try:
        with ctrl_c:
            _run(setup, settings, wanted, results, fd, chain_point, smc_points, ctrl_c.check)
    except KeyboardInterrupt:
        interrupted(results, out)
    finally:
        if fd is not None:
            os.close(fd)
    report = summarise(doc, facts.predicted, [results[pt] for pt in wanted], opts["seed"], opts["tolerance"],
                       notes(setup, settings))
    emit(report, opts["fmt"], opts["plot"], facts)


def _run(setup, settings, wanted, results: dict, fd: int | None, chain_point, smc_points,
         check) -> None:
    """Run the missing points with a progress bar on stderr; append each as it finishes.
    With data annealing a d's pass is run whole (its finished points are not written again)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from curse_cli.simulate.report import point_line

    todo = [pt for pt in wanted if pt not in results]
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("sampling", total=len(todo))

        def finished(point) -> None:
            if (point.d, point.p) in results:
                return
            results[(point.d, point.p)] = point
            if fd is not None:
                _write(fd, point_line(point))
            progress.advance(task)

        if settings.sampler != "smc":
            for d, p in todo:
                check()
                progress.update(task, description=f"d={d} P={p}")
                finished(chain_point(setup, settings, d, p))
            return
        with closing(smc_points(setup, settings, frozenset(results), between=check)) as points:
            for d, _ in todo:   # the points come in this order
                progress.update(task, description=f"d={d}")
                finished(next(points))


def prepare(spec: str, opts: dict):
    """Everything that can be refused, in order, before any work: options, extra, plot,
    spec, device, sizes and memory, --out."""
    out, resume = opts["out"], opts["resume"]
    if resume and out is None:
        raise UserError("--resume needs --out FILE.jsonl (the file of the run to continue)")
    if opts["sampler"] != "smc" and -(-opts["samples"] // opts["thin"]) < 4:
        raise UserError(f"--samples {opts['samples']} --thin {opts['thin']} records "
                        f"{-(-opts['samples'] // opts['thin'])} steps; R-hat needs at least 4: raise --samples "
                        "or lower --thin")
    _require_jax()
    if opts["plot"] is not None:
        try:
            check_plot(opts["plot"])
        except PlotError as err:
            raise UserError(str(err)) from None
    exists = _check_out(out, spec, resume) if out is not None else False
    from curse_cli.simulate import predicted as bridge  # the engine: not for --help

    try:
        facts = bridge.load(spec, opts["overrides"], bridge.SIMULATED_KINDS)
    except bridge.SimulateSpecError as err:
        raise UserError(str(err)) from None
    _check_device(opts["device"])
    return facts, exists


def refuse_large(setup, settings) -> None:
    """Counts and the memory estimate against this machine, before any work."""
    from curse_cli.simulate.experiment import grid, memory_estimate

    try:
        check_counts(setup, settings)
    except ValueError as err:
        raise UserError(str(err)) from None
    need, d, p, seconds = memory_estimate(setup, settings)
    have = physical_memory()
    if need > LIMITS.memory_share * have:
        points = len(grid(setup, settings))
        raise UserError(f"the point d={d} P={p} needs about {need / 2**30:.3g} GiB of memory (this machine has "
                        f"{have / 2**30:.3g} GiB) and the {points} points about {_duration(seconds)}; "
                        "lower --d, --p-ratio, --width-factor or --particles")


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} minutes"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} hours"
    return f"{seconds / 86400:.3g} days"


def settings_doc(facts, opts: dict, config) -> dict:
    """The settings that fix the numbers (the --out header; --resume compares them)."""
    doc = {"spec": facts.document, "ds": list(opts["ds"]), "p_ratios": list(opts["p_ratios"]),
           "width_factor": opts["width_factor"], "kappa": opts["kappa"], "sampler": opts["sampler"],
           "test_size": opts["test_size"], "seed": opts["seed"], "device": opts["device"]}
    if opts["sampler"] == "smc":
        doc.update(particles=opts["particles"], runs=opts["runs"], agreement=opts["agreement"],
                   anneal=opts["anneal"], mutations=opts["mutations"], leapfrog=config.leapfrog,
                   target_ess=config.target_ess)
    else:
        doc.update(chains=opts["chains"], warmup=opts["warmup"], samples=opts["samples"], thin=opts["thin"])
    return json.loads(json.dumps(doc))  # as it reads back from a file


def resumed(out: str, doc: dict):
    from curse_cli.simulate.report import FREE, ResumeError, read_jsonl

    free = FREE if doc.get("anneal") else FREE | {"p_ratios"}   # fresh points do not depend on the grid
    try:
        return read_jsonl(out, doc, free)
    except ResumeError as err:
        raise UserError(str(err)) from None


def interrupted(results: dict, out: str | None) -> None:
    where = f"; {len(results)} finished points are in {out}, rerun with --resume" if out else ""
    click.echo(f"interrupted{where}", err=True)
    sys.exit(130)


def emit(report, fmt: str, plot: str | None, facts) -> None:
    from curse_cli.simulate.report import report_csv, report_json

    if fmt == "json":
        click.echo(json.dumps(report_json(report), indent=2, ensure_ascii=False, allow_nan=False))
    elif fmt == "csv":
        click.echo(report_csv(report), nl=False)
    else:
        from curse_cli.cli.simulate_render import simulate_view

        console().print(simulate_view(report, facts.document, facts.origin))
    if plot is not None:
        from curse_cli.cli.simulate_plot import write_plot

        try:
            write_plot(report, plot, save)
        except PlotError as err:
            raise UserError(str(err)) from None
        click.echo(f"wrote {plot}", err=True)


class CtrlC:
    """While entered, Ctrl-C raises KeyboardInterrupt (the caller keeps the finished
    points) and is remembered: `check()`, called between stages, raises it again in case
    the first was swallowed, as Python does with an exception raised inside a garbage-
    collector callback such as JAX's (that swallowed one is not printed either)."""

    def __init__(self) -> None:
        self.seen = False
        self._handler: Callable | int | None = None
        self._hook = sys.__unraisablehook__

    def __enter__(self) -> CtrlC:
        self._handler = signal.signal(signal.SIGINT, self._on_sigint)
        self._hook = sys.unraisablehook
        sys.unraisablehook = self._unraisable
        return self

    def __exit__(self, *exc) -> None:
        signal.signal(signal.SIGINT, self._handler)
        sys.unraisablehook = self._hook

    def _on_sigint(self, signum, frame) -> None:
        self.seen = True
        raise KeyboardInterrupt

    def _unraisable(self, unraisable) -> None:
        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            self._hook(unraisable)

    def check(self) -> None:
        if self.seen:
            raise KeyboardInterrupt
