"""The one base class of the user's errors.

Every exception the library raises for input it cannot use (a spec, a pattern name, a
limit, a grid) derives from `CurseError`; the CLI turns exactly these into one line and
exit code 2, and anything else into an internal error.
"""


class CurseError(ValueError):
    """Input that cannot be used; `str(err)` is one line saying what is wrong and what to do."""
