"""The run's results in S3: one gzip JSON Lines object per run (docs/contracts.md#s3-layout).

``results/dt=YYYY-MM-DD/<run_id>.json.gz`` is the Athena table's location: one line per account in
the run (OK, ERROR and SKIPPED alike), each line an object with exactly the RECORD_FIELDS names.
``manifests/<run_id>.json`` is the Distributed Map's input: a JSON array of the accounts to audit.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rootwatch.domain.findings import DEFAULT_POLICY, Policy, with_findings
from rootwatch.domain.records import RECORD_FIELDS, AuditRecord

RESULTS_PREFIX = "results/"
MANIFESTS_PREFIX = "manifests/"
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,79}$")
_FIELD_NAMES = tuple(f.name for f in RECORD_FIELDS)


def _checked_run_id(run_id: str) -> str:
    if not _RUN_ID.match(run_id):
        raise ValueError(f"run_id: {run_id!r} is not usable in an S3 key (letters, digits, . _ : -; up to 80)")
    return run_id


def results_key(run_id: str, scanned_at: str) -> str:
    """``results/dt=YYYY-MM-DD/<run_id>.json.gz`` for a run that started at ``scanned_at`` (ISO-8601 UTC)."""
    return f"{RESULTS_PREFIX}dt={scanned_at[:10]}/{_checked_run_id(run_id)}.json.gz"


def manifest_key(run_id: str) -> str:
    """``manifests/<run_id>.json``."""
    return f"{MANIFESTS_PREFIX}{_checked_run_id(run_id)}.json"


def encode_records(records: Iterable[AuditRecord], policy: Policy = DEFAULT_POLICY) -> bytes:
    """gzip JSON Lines, one record per line with every contract field in contract order; ``severity`` and
    ``finding_kinds`` derived here from the finding table (``policy`` holds its thresholds)."""
    lines = []
    for record in records:
        data = with_findings(record, policy).to_dict()
        lines.append(json.dumps({name: data[name] for name in _FIELD_NAMES}, separators=(",", ":")))
    # mtime=0: the same records give the same bytes, so a rerun of finish_run rewrites an identical object.
    return gzip.compress(("\n".join(lines) + "\n").encode() if lines else b"", mtime=0)


def decode_records(body: bytes) -> list[AuditRecord]:
    """Read back an object written by ``encode_records``."""
    text = gzip.decompress(body).decode()
    return [AuditRecord.from_dict(json.loads(line)) for line in text.splitlines() if line.strip()]


class ResultsWriter:
    """Writes manifests and run results to the results bucket. ``client`` is a boto3 S3 client."""

    def __init__(self, client: Any, bucket: str, policy: Policy = DEFAULT_POLICY) -> None:
        self._client = client
        self.bucket = bucket
        self.policy = policy

    def with_policy(self, policy: Policy) -> ResultsWriter:
        """The same bucket and client, deriving the records' findings with ``policy``'s thresholds."""
        return ResultsWriter(self._client, self.bucket, policy)

    def write_results(self, run_id: str, scanned_at: str, records: Sequence[AuditRecord]) -> str:
        """Write the run's object (replacing an earlier one for the same run) and return its key."""
        key = results_key(run_id, scanned_at)
        self._client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=encode_records(records, self.policy),
            ContentType="application/x-ndjson",
            ContentEncoding="gzip",
        )
        return key

    def write_manifest(self, run_id: str, accounts: Sequence[Mapping[str, Any]]) -> str:
        """Write the Map's input, a JSON array of account items, and return its key."""
        key = manifest_key(run_id)
        body = json.dumps(list(accounts), separators=(",", ":")).encode()
        self._client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json")
        return key

    def read_manifest(self, run_id: str) -> list[dict[str, Any]]:
        """The accounts the run meant to audit."""
        body = self._client.get_object(Bucket=self.bucket, Key=manifest_key(run_id))["Body"].read()
        return json.loads(body)

    def read_results(self, run_id: str, scanned_at: str) -> list[AuditRecord]:
        """The records of a run's object."""
        body = self._client.get_object(Bucket=self.bucket, Key=results_key(run_id, scanned_at))["Body"].read()
        return decode_records(body)
