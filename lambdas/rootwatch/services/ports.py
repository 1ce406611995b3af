"""What the services need from their adapters, as Protocols: only the calls they make.

The adapters in ``rootwatch.aws`` (StatusStore, ResultsWriter, Notifier, ClientFactory) satisfy them
structurally; tests pass small fakes. Nothing here imports an adapter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from rootwatch.domain.alert import Alert
from rootwatch.domain.deliveries import Delivery
from rootwatch.domain.events import ChangeEvent
from rootwatch.domain.records import AuditRecord


class ClientSource(Protocol):
    """Builds the caller's AWS clients (``rootwatch.aws.clients.ClientFactory``)."""

    def client(self, service: str) -> Any: ...


class FeaturesReader(Protocol):
    """An IAM client, as PrepareRun uses it: ``ListOrganizationsFeatures``."""

    def list_organizations_features(self) -> Mapping[str, Any]: ...


class AuditRecorder(Protocol):
    """Stores one audit record and returns it with its transition (``StatusStore.record_audit``)."""

    def record_audit(self, record: AuditRecord) -> AuditRecord: ...


class RunStore(AuditRecorder, Protocol):
    """The status table as FinishRun uses it (``rootwatch.aws.status_store.StatusStore``)."""

    def run_records(self, run_id: str) -> list[AuditRecord]: ...

    def alert_sent(self, run_id: str) -> bool: ...

    def mark_alert_sent(self, run_id: str, subject: str, message_id: str) -> None: ...

    def commit_alerted(
        self, records: Iterable[AuditRecord], *, exempt_kinds: Mapping[str, Iterable[str]] | None = None
    ) -> int: ...

    def put_run_summary(self, run_id: str, summary: Mapping[str, Any]) -> None: ...


class ManifestWriter(Protocol):
    """Writes the Map's manifest (``ResultsWriter.write_manifest``); returns its key."""

    def write_manifest(self, run_id: str, accounts: Sequence[Mapping[str, Any]]) -> str: ...


class RunResults(Protocol):
    """The results bucket as FinishRun uses it (``rootwatch.aws.results_writer.ResultsWriter``)."""

    def read_manifest(self, run_id: str) -> list[dict[str, Any]]: ...

    def write_results(self, run_id: str, scanned_at: str, records: Sequence[AuditRecord]) -> str: ...


class AlertPublisher(Protocol):
    """Publishes the run's alert at most once per run marker (``rootwatch.aws.notifier.Notifier``)."""

    def publish_once(
        self, alert: Alert, *, sent: Callable[[str], bool], mark_sent: Callable[[str, str, str], None]
    ) -> str | None: ...


class FindingsImporter(Protocol):
    """Imports ASFF findings into Security Hub (``rootwatch.aws.securityhub.SecurityHubImporter``); never raises."""

    product_arn: str

    def import_findings(self, *passes: Sequence[dict[str, Any]]) -> Delivery: ...


class EventSink(Protocol):
    """Puts change events on an EventBridge bus (``rootwatch.aws.events.EventPublisher``); never raises."""

    def put_events(self, events: Sequence[ChangeEvent]) -> Delivery: ...
