#!/usr/bin/env python3
"""CDK entry point (``cdk synth`` / ``cdk deploy`` run this): one stack, config from cdk.json context."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lambdas"))  # rootwatch, when not pip-installed

from infra.app import build_app
from infra.config import ConfigError
from infra.definition import DefinitionError
from infra.lambda_asset import AssetError


def main() -> int:
    """Synthesize the app; a config, definition or asset (SDK pin) problem is one line on stderr and exit 2."""
    try:
        app, _ = build_app(context=None)
    except (ConfigError, DefinitionError, AssetError) as exc:
        print(f"rootwatch: {exc}", file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
