"""`curse simulate`: sample the posterior of the finite network and measure P* (issue 10).

The only module of the package that talks to the terminal.  JAX and BlackJAX (the
`simulate` extra) are imported only once the options are parsed; without them the command
says in one line how to install them.  The model, sampler and measurements are described
in docs/simulate.md.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys

import click

from curse_cli.cli.common import NumberList, UserError
from curse_cli.cli.layout import console
from curse_cli.cli.plotfile import PlotError, check_plot, save
from curse_cli.simulate.report import ResumeError, header_line, point_line, read_jsonl, report_csv, report_json

INSTALL_HINT = "pip install 'curse[simulate]' (or pip install '.[simulate]' from a checkout)"
DEFAULT_RATIOS = "0.5,1,2,4,8,16"


D_VALUES = NumberList("D,D,...", int, "8,16,32", lambda d: d >= 2, "every d must be an integer >= 2")
P_RATIOS = NumberList("R,R,...", float, "0.5,1,2,4", lambda r: math.isfinite(r) and r > 0,
                       "every ratio must be a positive number", at_least=2, why="a curve needs two points",
                       dedupe=True)


POSITIVE = click.FloatRange(min=0, min_open=True)


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


@click.command("simulate", cls=OneLineCommand)
@click.argument("spec", metavar="SPEC")
@click.option("--d", "ds", type=D_VALUES, default="8,16,32", show_default=True,
              help="Input dimensions (comma list of integers >= 2); widths N_l = round(width-factor d^[N_l]).")
@click.option("--p-ratio", "p_ratios", type=P_RATIOS, default=DEFAULT_RATIOS, show_default=True,
              help="Sample sizes P = round(r d^[P*]) for each ratio r (comma list).")
@click.option("--width-factor", type=POSITIVE, default=1.0, show_default=True, help="Widths are this times d^[N_l].")
@click.option("--kappa", type=POSITIVE, default=0.01, show_default=True, help="Noise variance / temperature.")
@click.option("--chains", type=click.IntRange(2), default=4, show_default=True,
              help="Chains per initialisation (prior and teacher-aligned), so 2x this in all.")
@click.option("--warmup", type=click.IntRange(0), default=1000, show_default=True,
              help="Warm-up steps per chain (step-size adaptation; discarded).")
@click.option("--samples", type=click.IntRange(4), default=1000, show_default=True, help="Recorded steps per chain.")
@click.option("--thin", type=click.IntRange(1), default=5, show_default=True,
              help="Measure every thin-th sampling step (measuring costs about one gradient).")
@click.option("--test-size", type=click.IntRange(16), default=512, show_default=True, help="Fresh test inputs per d.")
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True, help="Same seed, same numbers.")
@click.option("--sampler", type=click.Choice(["mala", "hmc"]), default="mala", show_default=True)
@click.option("--device", type=click.Choice(["cpu", "gpu"]), default="cpu", show_default=True,
              help="Where the chains run; with several GPUs the chains are sharded across them.")
@click.option("--tolerance", type=click.FloatRange(min=0), default=0.25, show_default=True,
              help="Slack on the fitted exponent's interval when judging agreement.")
@click.option("--set", "overrides", multiple=True, metavar="NAME=VALUE", help="Override a scale of the spec.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--plot", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Draw the curves and the collapse (.png or .svg; needs matplotlib).")
@click.option("--out", type=click.Path(dir_okay=False), default=None, metavar="FILE.jsonl",
              help="Write each finished point to this JSON Lines file as it goes.")
@click.option("--resume", is_flag=True, help="Continue the run in --out, skipping its finished points.")
def simulate_cmd(spec: str, ds, p_ratios, width_factor, kappa, chains, warmup, samples, thin, test_size, seed,
                 sampler, device, tolerance, overrides, fmt, plot, out, resume) -> None:
    """Sample the Bayesian posterior of the finite network and measure P* against 'curse predict'.

    For each d and P on the grid, chains from the prior and from a teacher-aligned start
    sample the hidden weights (readout integrated out exactly); the alignment of the
    posterior-mean predictor with the target is measured on fresh data, beside exact GP
    regression.  P_half(d), where the alignment crosses 1/2, is fitted as d^b.
    """
    if resume and out is None:
        raise UserError("--resume needs --out FILE.jsonl (the file of the run to continue)")
    if -(-samples // thin) < 4:
        raise UserError(f"--samples {samples} --thin {thin} records {-(-samples // thin)} steps; "
                               "R-hat needs at least 4: raise --samples or lower --thin")
    _require_jax()
    if plot is not None:
        try:
            check_plot(plot)
        except PlotError as err:
            raise UserError(str(err)) from None
    from curse_cli.simulate import predicted as bridge  # the engine: not for --help

    try:
        facts = bridge.load(spec, overrides)
    except bridge.SimulateSpecError as err:
        raise UserError(str(err)) from None
    _check_device(device)

    from curse_cli.simulate.analysis import summarise
    from curse_cli.simulate.experiment import Settings, Setup, grid, run_point
    from curse_cli.simulate.sampler import SamplerConfig

    setup = Setup(activation=facts.activation, coefficients=facts.coefficients,
                  width_exponents=facts.width_exponents, chi_exponent=facts.chi_exponent, degree=facts.degree,
                  measure=facts.measure, p_star_exponent=float(facts.p_star_exponent), kappa=kappa,
                  width_factor=width_factor)
    config = SamplerConfig(kind=sampler, warmup=warmup, samples=samples, thin=thin)
    settings = Settings(ds=ds, p_ratios=p_ratios, chains=chains, test_size=test_size, seed=seed, sampler=config,
                        device=device)
    doc = {"spec": facts.document, "ds": list(ds), "p_ratios": list(p_ratios), "width_factor": width_factor,
           "kappa": kappa, "chains": chains, "warmup": warmup, "samples": samples, "thin": thin,
           "test_size": test_size, "seed": seed, "sampler": sampler, "hmc_steps": config.hmc_steps, "device": device}
    doc = json.loads(json.dumps(doc))  # as it reads back from a file
    wanted = grid(setup, settings)
    done = {}
    if resume and os.path.exists(out):
        try:
            done = {(p.d, p.p): p for p in read_jsonl(out, doc)}
        except ResumeError as err:
            raise UserError(str(err)) from None
    todo = [pt for pt in wanted if pt not in done]
    results = dict(done)
    fh = _open_out(out, doc, done)
    # Ctrl-C is handled here, not by the entry point's handler (which leaves at once):
    # the finished points are already in --out, and the user is told how to resume.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _run(todo, results, fh, lambda d, p: run_point(setup, settings, d, p))
    except KeyboardInterrupt:
        if fh is not None:
            fh.close()
        where = f"; {len(results)} points are in {out}, rerun with --resume" if out else ""
        click.echo(f"interrupted{where}", err=True)
        sys.exit(130)
    finally:
        signal.signal(signal.SIGINT, previous)
    if fh is not None:
        fh.close()
    report = summarise(doc, facts.predicted, [results[pt] for pt in wanted], seed, tolerance)
    if fmt == "json":
        click.echo(json.dumps(report_json(report), indent=2, ensure_ascii=False))
    elif fmt == "csv":
        click.echo(report_csv(report), nl=False)
    else:
        console().print(_view(report))
    if plot is not None:
        from curse_cli.cli.simulate_plot import write_plot

        try:
            write_plot(report, plot, save)
        except PlotError as err:
            raise UserError(str(err)) from None
        click.echo(f"wrote {plot}", err=True)


def _view(report):
    from curse_cli.cli.simulate_render import simulate_view

    return simulate_view(report)


def _open_out(out: str | None, doc: dict, done: dict):
    """Open --out for appending, after (re)writing it as the header and the finished
    points: a resumed file loses a line cut off by a kill, atomically (write, rename)."""
    if out is None:
        return None
    tmp = f"{out}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(header_line(doc) + "\n")
            for key in sorted(done):
                fh.write(point_line(done[key]) + "\n")
        os.replace(tmp, out)
        return open(out, "a", encoding="utf-8")
    except OSError as err:
        raise UserError(f"--out {out}: cannot write the file: {err.strerror or err}") from None


def _run(todo, results, fh, run) -> None:
    """Run the points with a progress bar (time left) on stderr; write each as it finishes."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("sampling", total=len(todo))
        for d, p in todo:
            progress.update(task, description=f"d={d} P={p}")
            result = run(d, p)
            results[(d, p)] = result
            if fh is not None:
                fh.write(point_line(result) + "\n")
                fh.flush()
            progress.advance(task)
