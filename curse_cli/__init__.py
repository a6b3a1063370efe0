"""curse: predict how much data a network needs to learn a target, and how.

The Python API (`curse_cli.api`, docs/api.md): `predict`, `compare`, `explain`, `sweep`
and `depth`.  Importing the package is cheap; the engine loads on the first call.
"""

__version__ = "0.1.0"

from curse_cli.api import (  # noqa: E402 - after the version, which the CLI reads alone
    DepthResult, ExplainResult, PredictResult, Settings, SweepResult, compare, depth, explain, load, predict, sweep,
)

__all__ = [
    "DepthResult", "ExplainResult", "PredictResult", "Settings", "SweepResult", "__version__", "compare", "depth",
    "explain", "load", "predict", "sweep",
]
