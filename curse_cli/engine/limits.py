"""The engine's limits on work, as plain constants: the CLI shows them as option defaults
without importing the engine (so `--help` stays fast), and the engine checks them before
any work (`api.check_limits`)."""

DEFAULT_MAX_PATTERNS = 2000
# the most patterns --max-patterns accepts: a few minutes of scoring (four layers: 299 in 7 s)
PATTERN_CEILING = 5000
DEFAULT_MAX_DEPTH = 12     # a 12-layer chain of specialisations scores in ~5 s; 16 layers take a minute
DEFAULT_MAX_DEGREE = 24
DEFAULT_MAX_POWER = 16
DEFAULT_TOP = 5            # patterns predict and compare rank by best-first search unless --all
# predict/compare search: six hidden layers of erf in about 1.5 s, seven in about 5 s, eight in about 30 s
DEFAULT_SEARCH_DEPTH = 6
# ReLU-like layers (normalised input scales): predict takes ~3 s at five layers, ~30 s at six
DEFAULT_HOMOGENEOUS_DEPTH = 5
# predict/compare search with a readout scale chi that grows (mean-field): ~5 s at five layers, more than 5 min at six
DEFAULT_GROWING_CHI_DEPTH = 5
