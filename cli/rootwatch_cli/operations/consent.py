"""Whether a destructive operation may go ahead: dry run, ask a person, or already told yes.

The three destructive families (``remediate delete-root-credentials``, ``remediate allow-password-recovery``,
``unlock ...``) are dry runs unless the operator asks for the change: ``--execute`` asks a person at the
terminal for each account/resource, ``--yes`` (which implies ``--execute``) asks nobody. Without a terminal
and without ``--yes`` there is nobody to ask, and rootwatch refuses rather than guess.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TextIO


class ConsentMode(StrEnum):
    DRY_RUN = "dry-run"
    ASK = "ask"
    YES = "yes"


class NoTerminalError(Exception):
    """Confirmation is needed, stdin is not a terminal, and --yes was not given."""


def consent_mode(*, dry_run: bool, execute: bool, yes: bool) -> ConsentMode:
    """The mode for the flags; ValueError for contradictory ones (``--dry-run`` with ``--execute``/``--yes``)."""
    if dry_run and (execute or yes):
        raise ValueError("--dry-run: cannot be combined with --execute or --yes")
    if yes:
        return ConsentMode.YES
    if execute:
        return ConsentMode.ASK
    return ConsentMode.DRY_RUN


@dataclass
class Consent:
    """Asks (or not) before each change. ``ask`` is injectable for tests; the default reads the terminal."""

    mode: ConsentMode
    stdin: TextIO | None = None
    stdout: TextIO | None = None
    is_terminal: Callable[[], bool] | None = None

    @property
    def dry_run(self) -> bool:
        return self.mode is ConsentMode.DRY_RUN

    def require_someone_to_ask(self) -> None:
        """Raise NoTerminalError now (before anything is done) when confirmation will be impossible."""
        if self.mode is ConsentMode.ASK and not self._terminal():
            raise NoTerminalError(
                "confirmation needed but stdin is not a terminal: pass --yes to proceed without asking, "
                "or --dry-run to only see the plan"
            )

    def confirm(self, question: str) -> bool:
        """True to go ahead. Never True in a dry run; always True with --yes; else the person's y/N answer."""
        if self.mode is ConsentMode.DRY_RUN:
            return False
        if self.mode is ConsentMode.YES:
            return True
        self.require_someone_to_ask()
        out = self.stdout or sys.stdout
        out.write(f"{question} [y/N] ")
        out.flush()
        answer = (self.stdin or sys.stdin).readline()
        if not answer.endswith("\n"):
            out.write("\n")
        return answer.strip().lower() in ("y", "yes")

    def _terminal(self) -> bool:
        if self.is_terminal is not None:
            return self.is_terminal()
        stream = self.stdin or sys.stdin
        return bool(getattr(stream, "isatty", lambda: False)())
