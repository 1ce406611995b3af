"""Builds the CDK app: context defaults (cdk.json + feature flags), typed config, the stack, cdk-nag.

``app.py`` (what ``cdk synth`` runs) and the tests both call :func:`build_app`, so what the tests
synthesize is what gets deployed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.config import CONFIG_KEYS, PREFIX, REMOVED_KEYS, ConfigError, RootwatchConfig, load_config
from infra.stack import RootwatchStack

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"

#: Feature flags this app relies on. ``cdk.json`` carries the same ones, but ``python app.py`` and
#: pytest do not read cdk.json (only the CDK CLI does), so they are passed in code too.
FEATURE_FLAGS: dict[str, Any] = {
    "@aws-cdk/aws-stepfunctions:useDistributedMapResultWriterV2": True,
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
    "@aws-cdk/aws-lambda:recognizeLayerVersion": True,
    "@aws-cdk/core:enablePartitionLiterals": True,
    "@aws-cdk/aws-iam:standardizedServicePrincipals": True,
    "@aws-cdk/core:checkSecretUsage": True,
}


def cdk_json_context(path: Path = CDK_JSON) -> dict[str, Any]:
    """The ``context`` block of cdk.json."""
    return dict(json.loads(path.read_text(encoding="utf-8")).get("context", {}))


def _cli_context() -> dict[str, Any]:
    """Context the CDK CLI hands the app (cdk.json, cdk.context.json and -c values)."""
    raw = os.environ.get("CDK_CONTEXT_JSON")
    return json.loads(raw) if raw else {}


def check_known_keys(context: Mapping[str, Any]) -> None:
    """A misspelt ``rootwatch:`` key would be silently ignored: refuse it instead."""
    for key in context:
        if key in REMOVED_KEYS:
            raise ConfigError(key.removeprefix(PREFIX), REMOVED_KEYS[key], "delete the key from cdk.json")
        if key.startswith(PREFIX) and key not in CONFIG_KEYS:
            allowed = ", ".join(sorted(CONFIG_KEYS))
            raise ConfigError(key.removeprefix(PREFIX), "unknown key", allowed)


def build_app(
    context: Mapping[str, Any] | None = None,
    *,
    outdir: str | None = None,
    env: cdk.Environment | None = None,
    nag: bool = True,
) -> tuple[cdk.App, RootwatchStack]:
    """The app with its one stack. ``context`` defaults to cdk.json's; CLI context overrides it."""
    defaults = FEATURE_FLAGS | dict(cdk_json_context() if context is None else context)
    app = cdk.App(context=defaults, outdir=outdir)
    merged = defaults | _cli_context()
    check_known_keys(merged)
    config: RootwatchConfig = load_config(
        {key: app.node.try_get_context(key) for key in CONFIG_KEYS if app.node.try_get_context(key) is not None}
    )
    if env is None:
        env = cdk.Environment(
            account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
        )
    stack = RootwatchStack(app, config.resource_prefix, config=config, env=env)
    if nag:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack
