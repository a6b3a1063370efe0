"""`curse` behaves like a Unix tool (issue 9, section 4): signals end it and its workers,
closed or full outputs are one line, `--debug` goes anywhere, and `--version`/`--help`
do not load the engine.  These run the real entry point in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
THREE = str(ROOT / "specs" / "three_layer_erf.yaml")
FOUR = str(ROOT / "specs" / "four_layer_erf.yaml")
CURSE = [sys.executable, "-m", "curse_cli.cli"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def curse(*args, **kwargs):
    return subprocess.run([*CURSE, *args], capture_output=True, text=True, env=ENV, timeout=120, **kwargs)


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_version_and_help_do_not_import_the_engine(flag):
    code = ("import sys\nfrom curse_cli.cli.main import main\ntry:\n    main([%r])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('numpy', 'scipy', 'pydantic', 'curse_cli.engine.api', 'curse_cli.spec.load') "
            "if m in sys.modules]\nprint('HEAVY', heavy)" % flag)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=60)
    assert out.stdout.strip().splitlines()[-1] == "HEAVY []", out.stdout + out.stderr


def test_the_repeated_defaults_agree_with_the_library():
    from curse_cli.cli import common, ldt
    from curse_cli.engine.api import DEFAULT_MAX_PATTERNS
    from curse_cli.ldt.verdict import DEFAULT_TOLERANCE

    assert common.DEFAULT_MAX_PATTERNS == DEFAULT_MAX_PATTERNS
    assert ldt.DEFAULT_TOLERANCE == DEFAULT_TOLERANCE


def test_a_closed_pipe_ends_quietly():
    """`curse patterns | head -1`: the reader leaves after one line; no internal error."""
    proc = subprocess.Popen([*CURSE, "patterns", FOUR], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert first.strip() == b"GP-GP-GP-GP"
    assert "internal error" not in err and "Traceback" not in err
    assert proc.returncode in (0, -13, 141)  # done, or ended by SIGPIPE as `head` expects


def test_a_closed_stdout_is_one_line():
    out = subprocess.run([*CURSE, "predict", THREE], stdout=None, stderr=subprocess.PIPE, text=True, env=ENV,
                         timeout=60, preexec_fn=lambda: os.close(1))
    assert out.returncode == 74
    assert out.stderr.strip().splitlines() == ["curse: I/O error: cannot write the output: standard output is closed"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_disk_is_one_line():
    with open("/dev/full", "w") as full:
        out = subprocess.run([*CURSE, "predict", THREE, "--format", "json"], stdout=full, stderr=subprocess.PIPE,
                             text=True, env=ENV, timeout=60)
    assert out.returncode == 74
    assert out.stderr.strip().splitlines() == ["curse: I/O error: cannot write the output: No space left on device"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["--help"], ["--version"], ["predict", "--help"]])
def test_the_group_s_own_output_on_a_full_disk_is_one_line(args):
    """`curse --help > /dev/full` printed a 37-line traceback: the group's own options are
    under the same boundary as a subcommand's."""
    with open("/dev/full", "w") as full:
        out = subprocess.run([*CURSE, *args], stdout=full, stderr=subprocess.PIPE, text=True, env=ENV, timeout=60)
    assert out.returncode == 74
    assert out.stderr.strip().splitlines() == ["curse: I/O error: cannot write the output: No space left on device"]


@pytest.mark.parametrize("args", [["--help"], ["--version"]])
def test_the_group_s_own_output_to_a_closed_stdout_is_one_line(args):
    """`curse --help >&-` exited 0 having printed nothing."""
    out = subprocess.run([*CURSE, *args], stdout=None, stderr=subprocess.PIPE, text=True, env=ENV, timeout=60,
                         preexec_fn=lambda: os.close(1))
    assert out.returncode == 74
    assert out.stderr.strip().splitlines() == ["curse: I/O error: cannot write the output: standard output is closed"]


@pytest.mark.parametrize("args, text", [
    (["predict", THREE, "--top", "0"], "Error: Invalid value for '--top': 0 is not in the range x>=1; "
                                       "see 'curse predict --help'"),
    (["ldt", THREE, "--d", "1"], "Error: Invalid value for '--d': every d must be a number from 2"),
    (["predict", THREE, "--format", "yaml"], "Error: Invalid value for '--format': 'yaml' is not one of"),
    (["--bogus"], "Error: No such option '--bogus'; see 'curse --help'"),
    (["bogus"], "Error: No such command 'bogus'; see 'curse --help'"),
    (["explain", THREE], "Error: Missing option '--pattern'"),
])
def test_errors_click_raises_for_options_are_one_line(args, text):
    """They printed a four-line usage block; every other error is one line."""
    out = curse(*args)
    assert out.returncode == 2 and out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1 and out.stderr.startswith(text), out.stderr


def test_a_closed_stdin_is_one_line():
    out = subprocess.run([*CURSE, "predict", "-"], capture_output=True, text=True, env=ENV, timeout=60,
                         preexec_fn=lambda: os.close(0))
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "Error: <stdin>: standard input is closed; pipe a spec in, or give its path instead of -"]


def test_debug_works_after_the_subcommand():
    from curse_cli.cli.main import cli
    from curse_cli.spec.load import SpecError

    quiet = CliRunner().invoke(cli, ["predict", THREE, "--set", "N1=x"])
    assert quiet.exit_code == 2 and not isinstance(quiet.exception, SpecError)
    loud = CliRunner().invoke(cli, ["predict", THREE, "--set", "N1=x", "--debug"])
    assert isinstance(loud.exception, SpecError)


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(x) for x in handle.read().split()]
    except OSError:
        return []


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="needs Linux /proc")
@pytest.mark.parametrize("sig, code", [(15, 143), (2, 130)])
def test_a_signal_ends_the_run_and_its_workers(sig, code):
    """The four-layer spec scores 1000+ patterns in two processes for seconds; a signal
    ends both within a second, with 128 + signal and nothing on stdout."""
    proc = subprocess.Popen([*CURSE, "predict", FOUR, "--all", "--format", "json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=ENV)
    deadline = time.monotonic() + 20
    kids: list[int] = []
    while time.monotonic() < deadline and not kids and proc.poll() is None:
        time.sleep(0.05)
        kids = _children(proc.pid)
    if os.cpu_count() and os.cpu_count() >= 2:
        assert kids, "the four-layer spec should fork a worker"
    time.sleep(0.3)
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=5)
    assert proc.returncode == code
    assert out == b""
    time.sleep(1.0)
    assert not [k for k in kids if _running(k)]
