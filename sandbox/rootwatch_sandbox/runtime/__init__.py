"""Lambda without Docker, and Step Functions on moto's interpreter (docs/sandbox-runtime.md).

What :func:`install` changes in moto 5.2.5, once per process; each module says how:

- :mod:`.lambda_runner`: **Lambda runs in-process.** A ``python*`` function's handler runs in the invoking
  thread, as the Python runtime would, and an exception becomes a function error whose ``errorType`` is its
  class name, so Step Functions Retry/Catch match on it. Other runtimes keep moto's echo.
- :mod:`.env_overlay`: **the function's environment** (its Variables plus the reserved Lambda ones, and
  credentials for its execution role, :mod:`.role_sessions`) is visible to the handler through ``os.environ``,
  for the handler's thread only; concurrent invocations each see their own function's environment.
  **boto3 inside the handler reaches the sandbox itself**: in-process, moto's mock intercepts every call (any
  ``AWS_ENDPOINT_URL*`` is hidden from the handler); on a server, ``AWS_ENDPOINT_URL`` is the server.
- :mod:`.stepfunctions_patches`: **Step Functions definitions are localized** (:mod:`.definitions`) before moto
  parses them, so the definition deployed to AWS is the one the sandbox runs; a Distributed Map batches its
  items (``ItemBatcher``) and enforces its failure tolerance; retry waits can be scaled down
  (:func:`set_retry_scale`, or ``ROOTWATCH_SANDBOX_RETRY_SCALE``, :mod:`.settings`); the state machine's own
  calls are made with its role's credentials.

The Step Functions patches wait until moto first serves a Step Functions request (its interpreter takes about a
second to import). docs/sandbox-runtime.md says what works, what moto cannot do, and how tests use this.

This package's namespace is the runtime's switchboard (install it, tune it); the rest is imported from the
module that defines it.
"""

from __future__ import annotations

import threading

from rootwatch_sandbox.runtime.settings import RETRY_SCALE_ENV, retry_scale, set_endpoint_url, set_retry_scale
from rootwatch_sandbox.runtime.stepfunctions_patches import install_step_functions

_install_lock = threading.Lock()
_installed = False


def install() -> None:
    """Patch moto's Lambda (and, on first use, Step Functions) for in-process handlers. Idempotent, thread-safe.

    moto's Step Functions interpreter takes about a second to import (it pulls in EC2, Batch, ...), so its patches
    are applied when moto first serves a Step Functions request, or by :func:`install_step_functions`.
    """
    global _installed
    with _install_lock:
        if _installed:
            return
        from rootwatch_sandbox.runtime import env_overlay, lambda_runner, stepfunctions_patches

        env_overlay.install()
        lambda_runner.install()
        stepfunctions_patches.install_on_first_request()
        _installed = True


__all__ = [
    "RETRY_SCALE_ENV",
    "install",
    "install_step_functions",
    "retry_scale",
    "set_endpoint_url",
    "set_retry_scale",
]
