"""The state machine definition: ``infra/statemachine/audit_run.asl.json``, loaded and checked at synth.

The file is THE definition: CDK deploys it (infra/workflow.py, ``DefinitionBody.from_file`` with
``definition_substitutions``) and the sandbox runs it. There is no second definition: this module only
checks that the file exists, has the agreed placeholders and is valid JSON once they are substituted, so
a broken file fails synth with one clear line instead of a failed deployment. It also reads from the
definition what the state machine's role needs (the Distributed Map's ResultWriter prefixes).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from infra.storage import MAP_RESULTS_PREFIX

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFINITION_FILE = REPO_ROOT / "infra" / "statemachine" / "audit_run.asl.json"
DEFINITION_PLACEHOLDERS = (
    "PrepareRunFunctionArn",
    "AuditAccountFunctionArn",
    "FinishRunFunctionArn",
    "ResultsBucket",
    "MaxConcurrency",
    "MaxItemsPerBatch",
)

#: AWS's public SSM parameters naming the Powertools for AWS Lambda (Python) layer of each release
#: An EXPRESS execution's hard limit; a batch's child must end well inside it.
EXPRESS_LIMIT_SECONDS = 300


class DefinitionError(RuntimeError):
    """The state machine definition file is missing or malformed (one line, names the file)."""


def load_definition(path: Path | None = None) -> dict[str, Any]:
    """Read the definition, check its placeholders, and return it parsed with sample substitutions."""
    path = path or DEFINITION_FILE
    if not path.is_file():
        shown = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
        raise DefinitionError(f"state machine definition {shown} is missing (the pipeline owns it)")
    text = path.read_text(encoding="utf-8")
    used = set(re.findall(r"\$\{(\w+)\}", text))
    unknown = used - set(DEFINITION_PLACEHOLDERS)
    if unknown:
        raise DefinitionError(f"{path.name}: unknown placeholders {sorted(unknown)}; allowed {DEFINITION_PLACEHOLDERS}")
    missing = [name for name in DEFINITION_PLACEHOLDERS if name not in used]
    if missing:
        raise DefinitionError(
            f"{path.name}: placeholders {missing} are not used; the stack's values would not reach it"
        )
    numeric = ("MaxConcurrency", "MaxItemsPerBatch")
    samples = {name: "1" if name in numeric else f"sample-{name}" for name in DEFINITION_PLACEHOLDERS}
    substituted = re.sub(r"\$\{(\w+)\}", lambda m: samples[m.group(1)], text)
    try:
        return json.loads(substituted)
    except json.JSONDecodeError as exc:
        raise DefinitionError(f"{path.name}: not valid JSON after substitution: {exc}") from None


def result_writer_prefixes(definition: dict[str, Any]) -> list[str]:
    """The S3 prefixes the definition's Distributed Map ResultWriters write to (may be empty)."""
    prefixes: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            writer = node.get("ResultWriter")
            if isinstance(writer, dict):
                args = writer.get("Parameters") or writer.get("Arguments") or writer.get("WriterConfig") or {}
                prefix = args.get("Prefix") if isinstance(args, dict) else None
                prefixes.append(prefix.rstrip("/") + "/" if isinstance(prefix, str) else MAP_RESULTS_PREFIX)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(definition)
    return sorted(set(prefixes))
