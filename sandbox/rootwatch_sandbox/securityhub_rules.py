"""Security Hub's import rules that moto 5.2.5 does not apply (docs/sandbox.md, "Security Hub").

- With a default product ARN (``product/<account>/default``) a caller imports findings only for itself: the
  product's account and the finding's ``AwsAccountId`` must both be the calling account. moto takes any.
- After a finding is created, ``BatchImportFindings`` does not change its ``Note``, ``UserDefinedFields``,
  ``VerificationState`` or ``Workflow``. moto overwrites them.

Both documented in the BatchImportFindings API reference (docs/aws-behaviour.md#security-hub). The refusal's
``ErrorCode``/``ErrorMessage`` wording is *(unverified)*.
"""

from __future__ import annotations

import re
import threading
from typing import Any

#: What BatchImportFindings keeps of an existing finding (the customer's investigation fields).
KEPT_ON_UPDATE = ("Note", "UserDefinedFields", "VerificationState", "Workflow")
_DEFAULT_PRODUCT = re.compile(r"^arn:aws[a-z-]*:securityhub:[a-z0-9-]+:(\d{12}):product/(\d{12})/default$")

_lock = threading.Lock()
_installed = False


def refusal(finding: dict[str, Any], caller: str) -> str | None:
    """Why a finding is refused for ``caller`` under the default product rule, or None when it is accepted."""
    match = _DEFAULT_PRODUCT.match(str(finding.get("ProductArn") or ""))
    if match is None:
        return None
    if match.group(1) != caller or match.group(2) != caller:
        return f"the default product ARN of another account ({finding.get('ProductArn')}) cannot be used by {caller}"
    if str(finding.get("AwsAccountId")) != caller:
        return (
            f"AwsAccountId {finding.get('AwsAccountId')} is not the calling account {caller}: with the default "
            "product ARN a caller imports findings only for its own account"
        )
    return None


def install() -> None:
    """Patch moto's SecurityHubBackend.batch_import_findings. Process-wide and idempotent."""
    global _installed
    with _lock:
        if _installed:
            return
        from moto.securityhub.models import SecurityHubBackend

        original = SecurityHubBackend.batch_import_findings

        def batch_import_findings(self: Any, findings: list[dict[str, Any]]) -> tuple[int, int, list[dict[str, Any]]]:
            accepted, refused = [], []
            existing = {f.id: f for f in self.findings}
            for finding in findings:
                why = refusal(finding, self.account_id) if isinstance(finding, dict) else None
                if why:
                    refused.append(
                        {"Id": finding.get("Id", ""), "ErrorCode": "AccessDeniedException", "ErrorMessage": why}
                    )
                    continue
                before = existing.get(finding.get("Id")) if isinstance(finding, dict) else None
                if before is not None:
                    kept = {key: before.data[key] for key in KEPT_ON_UPDATE if key in before.data}
                    finding = {k: v for k, v in finding.items() if k not in KEPT_ON_UPDATE} | kept
                accepted.append(finding)
            failed, succeeded, failures = original(self, accepted)
            return failed + len(refused), succeeded, failures + refused

        SecurityHubBackend.batch_import_findings = batch_import_findings  # type: ignore[method-assign]
        _installed = True
