"""`curse simulate`'s library.

XLA's CPU runtime can wedge its multi-threaded Eigen pool on vmapped graphs like the
tempered SMC stages (a run stopped for good, asleep on a futex, at d = 16).  Single-threaded
Eigen avoids it at a small cost, so it is asked for here, before JAX starts its CPU
backend, unless the user set the flag in XLA_FLAGS already.
"""

import os

_EIGEN = "--xla_cpu_multi_thread_eigen"
if _EIGEN not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {_EIGEN}=false".strip()
