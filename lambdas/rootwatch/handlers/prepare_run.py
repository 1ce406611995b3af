"""PrepareRun: check the org feature, list the accounts, write the manifest, record the skipped ones."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from rootwatch.handlers import dependencies
from rootwatch.handlers.events import PrepareRunEvent, parse_event
from rootwatch.handlers.observability import logger, metrics, tracer
from rootwatch.services import run


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Returns the PreparedRun the Map and FinishRun read; raises FeatureDisabledError when the feature is off."""
    request = parse_event(event, PrepareRunEvent)
    logger.append_keys(run_id=request.run_id)
    dependencies.exemptions()  # an invalid exemption fails the run here, at its start, naming the entry
    prepared = run.prepare_run(
        request.run_id,
        request.scanned_at,
        factory=dependencies.client_factory(),
        store=dependencies.status_store(),
        results=dependencies.results_writer(),
        exemptions=dependencies.exemption_store().in_effect,
    )
    # AccountsSkipped comes from FinishRun's totals (the one place every account is counted once).
    metrics.add_metric(name="AccountsToAudit", unit=MetricUnit.Count, value=prepared.accounts)
    logger.info("run prepared", extra={"accounts": prepared.accounts, "skipped": prepared.skipped})
    return prepared.to_dict()
