"""Imports a run's findings into AWS Security Hub (``BatchImportFindings``), as the default product of the account.

``SecurityHubImporter.import_findings`` sends the findings in calls of at most 100 (``rootwatch.domain.asff``),
the current ones first, then the archived ones. A finding Security Hub refuses (``FailedFindings``) or a call
that fails is counted and its message kept, never raised: the caller (FinishRun, after the alert) logs it and
emits a metric (docs/pipeline.md, "Security Hub and EventBridge").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from rootwatch.domain.asff import batches, parse_product_arn
from rootwatch.domain.deliveries import Delivery, failed_delivery


class SecurityHubImporter:
    """``client`` is a boto3 Security Hub client in the product ARN's region."""

    def __init__(self, client: Any, product_arn: str) -> None:
        parse_product_arn(product_arn)
        self._client = client
        self.product_arn = product_arn

    def import_findings(self, *passes: Sequence[dict[str, Any]]) -> Delivery:
        """Import each pass of findings in order (each in calls of at most 100); what went in and what did not."""
        total = Delivery()
        for findings in passes:
            for batch in batches(list(findings)):
                total += self._import(batch)
        return total

    def _import(self, batch: list[dict[str, Any]]) -> Delivery:
        try:
            answer = self._client.batch_import_findings(Findings=batch)
        except (ClientError, BotoCoreError) as exc:
            return failed_delivery(len(batch), f"BatchImportFindings failed: {exc}")
        failed = answer.get("FailedFindings") or []
        errors = tuple(
            f"BatchImportFindings refused {item.get('Id')}: {item.get('ErrorCode')} {item.get('ErrorMessage')}"
            for item in failed
        )
        count = int(answer.get("FailedCount", len(failed)) or 0)
        return Delivery(sent=len(batch) - count, failed=count, errors=errors)
