"""On/off switches of the sandbox's checks: an explicit setting, else an environment variable, else on."""

from __future__ import annotations

import os

_OFF_VALUES = frozenset({"off", "0", "false", "no", "disabled"})


class Switch:
    """A check that is on by default; ``set(False)`` or ``$<env>=off`` turns it off (the setting wins)."""

    def __init__(self, env: str) -> None:
        self.env = env
        self._setting: bool | None = None

    def set(self, enabled: bool | None) -> None:
        """Turn the check on or off for the process; None falls back to the environment variable."""
        self._setting = enabled

    def enabled(self) -> bool:
        """Whether the check runs."""
        if self._setting is not None:
            return self._setting
        return os.environ.get(self.env, "on").strip().lower() not in _OFF_VALUES
