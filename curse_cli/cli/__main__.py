"""`python -m curse_cli.cli`: the same as the `curse` console script."""

from curse_cli.cli.main import run

if __name__ == "__main__":   # not when a spawned worker of `curse simulate` imports it
    run()
