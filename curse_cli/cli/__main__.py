"""`python -m curse_cli.cli`: the same as the `curse` console script."""

from curse_cli.cli.main import run

run()
