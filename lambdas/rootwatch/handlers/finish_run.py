"""FinishRun: reconcile, write the run's S3 object, send the one alert, store the summary, emit metrics."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from rootwatch.domain.exemptions import exempt_kinds_by_account
from rootwatch.handlers import dependencies
from rootwatch.handlers.events import FinishRunEvent, parse_event
from rootwatch.handlers.observability import logger, metrics, tracer
from rootwatch.handlers.settings import ConfigError, settings
from rootwatch.services import run

_COUNT_METRICS = {
    "AccountsAudited": "audited",
    "AccountsWithRootCredentials": "with_root_credentials",
    "CredentialsReappeared": "reappeared",
    "AuditErrors": "errors",
    "AccountsSkipped": "skipped",
}

#: The summary's ``deliveries`` keys -> the metric name prefix (``SecurityHubFindingsFailed``, ``EventsFailed``).
_DELIVERY_METRICS = {"security_hub": "SecurityHubFindings", "events": "Events"}


def _exempt_kinds(scanned_at: str) -> dict[str, frozenset[str]]:
    """Kinds exempt per account today. Invalid exemptions already failed the run in PrepareRun, whose
    failure this run's alert reports: here they must not stop that alert from going out."""
    try:
        exemptions = dependencies.exemptions()
    except ConfigError:
        return {}
    return exempt_kinds_by_account(exemptions, on=run.scan_date(scanned_at))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Returns the run summary plus ``error``/``cause`` for the state machine's final Choice."""
    request = parse_event(event, FinishRunEvent)
    logger.append_keys(run_id=request.run_id)
    prepared = request.state.prepared
    organization_id, management_account_id = (
        (None, "") if prepared else run.organization_of(dependencies.client_factory(), on_error=logger.warning)
    )
    summary = run.finish_run(
        request.run_id,
        request.scanned_at,
        store=dependencies.status_store(),
        results=dependencies.results_writer().with_policy(settings().policy),
        notifier=dependencies.notifier(),
        prepared=prepared.model_dump() if prepared else None,
        failure=request.failure.model_dump() if request.failure else None,
        organization_id=organization_id,
        management_account_id=management_account_id,
        exempt_kinds=_exempt_kinds(request.scanned_at),
        policy=settings().policy,
        security_hub=dependencies.security_hub(),
        events=dependencies.event_publisher(),
    )
    for name, key in _COUNT_METRICS.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=summary.totals.get(key, 0))
    metrics.add_metric(name="RunDuration", unit=MetricUnit.Seconds, value=summary.duration_seconds)
    for name, delivery in summary.deliveries.items():
        metric = _DELIVERY_METRICS[name]
        metrics.add_metric(name=f"{metric}Sent", unit=MetricUnit.Count, value=delivery["sent"])
        metrics.add_metric(name=f"{metric}Failed", unit=MetricUnit.Count, value=delivery["failed"])
        if delivery["failed"]:
            # After the alert: logged and counted, never a failed run (docs/pipeline.md).
            logger.error(f"{metric}: {delivery['failed']} not delivered", extra={"errors": delivery["errors"]})
    logger.info("run finished", extra={"status": summary.status, "totals": summary.totals})
    result = summary.to_dict()
    result["error"] = summary.error_code or ""
    result["cause"] = summary.error_message or ""
    return result
