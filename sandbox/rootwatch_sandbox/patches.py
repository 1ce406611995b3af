"""Installs every extension the sandbox makes to moto. Process-wide and idempotent."""

from __future__ import annotations

_installed = False


def install() -> None:
    """Patch moto once per process: IAM policy validation fixes, root access (STS/IAM/Organizations/faults),
    the runtime (Lambda/SFN) and Security Hub's import rules."""
    global _installed
    if _installed:
        return
    from rootwatch_sandbox import iam_fixes, rootaccess, runtime, securityhub_rules

    iam_fixes.install()
    rootaccess.install()
    runtime.install()
    securityhub_rules.install()
    _installed = True
