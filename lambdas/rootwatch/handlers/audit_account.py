"""AuditAccount: audit one member account's root user and store the result (one Map item).

No Powertools Tracer here, on purpose: see rootwatch.handlers.observability (cold-import budget).
"""

from __future__ import annotations

from typing import Any

from rootwatch.aws.root_audit import audit_root_credentials
from rootwatch.handlers import dependencies
from rootwatch.handlers.events import AuditAccountEvent, parse_event
from rootwatch.handlers.observability import logger
from rootwatch.services import run


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Returns the compact record; raises ThrottledError while the state machine still has retries left."""
    request = parse_event(event, AuditAccountEvent)
    factory = dependencies.client_factory()
    record = run.audit_account(
        request.run_id,
        request.scanned_at,
        run.Account(**request.account.model_dump(exclude={"exemptions"})),
        audit=lambda account_id: audit_root_credentials(factory, account_id),
        store=dependencies.status_store(),
        final_attempt=request.final_attempt,
        # cdk.json's, then the status table's (from the Map item): a kind is exempt if either covers it.
        exemptions=dependencies.exemptions() + tuple(run.manifest_exemptions(request.account.model_dump())),
    )
    result = run.compact(record)
    # Keys go in ``extra``, not append_keys: the sandbox runs many invocations at once in one process.
    # A clean audit logs at DEBUG: its record is in S3 and the run summary counts it, and one INFO line per
    # account would be most of a 10,000-account night's log bill (docs/cost.md). Anything a person may look
    # for (credentials found, an error, a skip) stays INFO.
    clean = record.status == "OK" and not record.root_credentials_present
    (logger.debug if clean else logger.info)("account audited", extra={"run_id": request.run_id, **result})
    return result
