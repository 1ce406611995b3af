"""Generated audit history in the exact S3 layout, for tests, the benchmark and trying the report.

:class:`HistoryWriter` writes runs the way the pipeline does: one ``results/dt=YYYY-MM-DD/<run_id>.json.gz``
object per run (byte for byte what ``rootwatch.aws.results_writer.encode_records`` writes), transitions
computed against each account's last *successful* audit (``rootwatch.domain.transitions``), exemptions
applied to the records (``rootwatch.domain.exemptions``). Tests script precise scenarios with it;
:func:`generate_history` simulates a whole organization over many nights.

Try it: ``python -m rootwatch_cli.analytics.history OUT_DIR --days 90 --accounts 200`` then
``rootwatch report --results OUT_DIR``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from rootwatch.aws.results_writer import results_key
from rootwatch.domain.exemptions import Exemption, apply_exemptions
from rootwatch.domain.findings import findings_of
from rootwatch.domain.records import CREDENTIAL_KINDS, FLAG_FOR_KIND, RECORD_FIELDS, AuditRecord, AuditStatus
from rootwatch.domain.transitions import Baseline, compute_transition, next_baseline

KINDS = tuple(kind.value for kind in CREDENTIAL_KINDS)
MANAGEMENT_ACCOUNT_ID = "123456789012"
SCP_DENY_MESSAGE = (
    "User: arn:aws:sts::123456789012:assumed-role/rootwatch-audit/audit is not authorized to perform: "
    "sts:AssumeRoot on resource: arn:aws:iam::{account_id}:root with an explicit deny in a service control policy"
)


@dataclass(frozen=True)
class Audit:
    """What one audit of one account found (the input to :meth:`HistoryWriter.run`)."""

    account_id: str
    kinds: frozenset[str] = frozenset()
    status: str = AuditStatus.OK
    error_code: str | None = None
    error_message: str | None = None
    account_name: str | None = None
    ou_path: str | None = None


@dataclass
class HistoryWriter:
    """Writes runs under ``root/results/`` and remembers each account's baseline between runs."""

    root: Path
    exemptions: Sequence[Exemption] = ()
    baselines: dict[str, Baseline | None] = field(default_factory=dict)
    files: int = 0
    records: int = 0

    def run(
        self, day: date, audits: Iterable[Audit], *, run_id: str | None = None, at: time = time(2)
    ) -> list[AuditRecord]:
        """Write one run on ``day`` (scanned at ``at`` UTC) and return its records."""
        scanned_at = datetime.combine(day, at).strftime("%Y-%m-%dT%H:%M:%SZ")
        run_id = run_id or f"run-{day:%Y%m%d}-{at:%H%M%S}"
        built = [self._record(audit, run_id, scanned_at, day) for audit in audits]
        path = self.root / results_key(run_id, scanned_at)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(encode_run(built))
        self.files += 1
        self.records += len(built)
        return built

    def _record(self, audit: Audit, run_id: str, scanned_at: str, day: date) -> AuditRecord:
        name = audit.account_name or f"account-{audit.account_id[-4:]}"
        common: dict[str, Any] = {
            "run_id": run_id,
            "scanned_at": scanned_at,
            "account_id": audit.account_id,
            "account_name": name,
            "account_email": f"aws+{name}@example.com",
            "account_state": "SUSPENDED" if audit.error_code == "SUSPENDED" else "ACTIVE",
            "status": str(audit.status),
            "ou_path": audit.ou_path,
        }
        if audit.status == AuditStatus.SKIPPED:
            return AuditRecord(**common, error_code=audit.error_code, error_message=audit.error_message)
        baseline = self.baselines.get(audit.account_id)
        transition = compute_transition(baseline, audit.status, audit.kinds)
        self.baselines[audit.account_id] = next_baseline(baseline, audit.status, audit.kinds, run_id)
        if audit.status != AuditStatus.OK:
            return AuditRecord(
                **common,
                error_code=audit.error_code,
                error_message=audit.error_message,
                first_audit=transition.first_audit,
            )
        flags: dict[str, Any] = {FLAG_FOR_KIND[kind]: kind.value in audit.kinds for kind in CREDENTIAL_KINDS}
        record = AuditRecord(
            **common,
            **flags,
            root_credentials_present=bool(audit.kinds),
            active_access_keys=1 if "access_keys" in audit.kinds else None,
            inactive_access_keys=0 if "access_keys" in audit.kinds else None,
            mfa_devices=1 if "mfa" in audit.kinds else None,
            active_signing_certificates=1 if "signing_certificates" in audit.kinds else None,
            password_last_used=f"{day - timedelta(days=40):%Y-%m-%d}T09:12:00Z" if "password" in audit.kinds else None,
            appeared=list(transition.appeared),
            disappeared=list(transition.disappeared),
            first_audit=transition.first_audit,
        )
        return apply_exemptions(record, self.exemptions, on=day) if self.exemptions else record

    def size_on_disk(self) -> int:
        """Bytes of every object written: the size the history takes in S3."""
        return sum(path.stat().st_size for path in (self.root / "results").rglob("*.json.gz"))


def encode_run(records: Sequence[AuditRecord]) -> bytes:
    """The same bytes as ``results_writer.encode_records``, without ``asdict``'s deep copies (a year of history
    for 1,000 accounts is 365,000 records)."""
    lines = []
    for record in records:
        values = {name: getattr(record, name) for name in _FIELD_NAMES}
        values["status"] = str(record.status)
        kinds = findings_of(record)
        values["severity"] = str(kinds[0].severity) if kinds else None
        values["finding_kinds"] = [kind.key for kind in kinds]
        lines.append(json.dumps(values, separators=(",", ":")))
    return gzip.compress(("\n".join(lines) + "\n").encode() if lines else b"", mtime=0)


_FIELD_NAMES = tuple(spec.name for spec in RECORD_FIELDS)
_TEAMS = ("payments", "data", "identity", "search", "ml", "web", "mobile", "billing", "logs", "edge", "ads", "crm")
_STAGES = ("prod", "staging", "dev", "sandbox", "shared")
# Starting mixes, most accounts clean; weights roughly as orgs that enabled central root access see them.
_INITIAL: tuple[tuple[frozenset[str], int], ...] = (
    (frozenset(), 80),
    (frozenset({"password"}), 6),
    (frozenset({"password", "mfa"}), 8),
    (frozenset({"password", "access_keys", "mfa"}), 2),
    (frozenset({"access_keys"}), 2),
    (frozenset({"signing_certificates"}), 1),
    (frozenset(KINDS), 1),
)


#: Which kind shows up when one appears: passwords and MFA far more often than keys or certificates.
_APPEAR_WEIGHTS = (5, 2, 1, 4)


def account_ids(count: int) -> list[str]:
    """``count`` distinct member account ids (never the management account's)."""
    return [f"{210000000000 + index * 7919:012d}" for index in range(count)]


def account_name(index: int) -> str:
    """A plausible account name, e.g. ``payments-prod-3``."""
    return f"{_TEAMS[index % len(_TEAMS)]}-{_STAGES[(index // len(_TEAMS)) % len(_STAGES)]}-{index}"


def generate_history(
    root: str | os.PathLike[str],
    *,
    days: int,
    accounts: int,
    end: date | None = None,
    seed: int = 7,
    exemptions: Sequence[Exemption] = (),
) -> HistoryWriter:
    """Simulate ``days`` nightly runs ending on ``end`` (default: today, UTC) for ``accounts`` members.

    Deterministic for a seed. The mix: most accounts clean, some with a password/MFA, a few with keys or
    certificates; credentials occasionally appear and get removed; a few throttled or denied audits;
    two accounts behind an SCP that denies AssumeRoot every night (never audited, when ``accounts`` >= 20);
    one suspended account; accounts joining the org along the way; the management account SKIPPED.
    """
    from rootwatch.domain.exemptions import utc_today

    rng = random.Random(seed)
    end = end or utc_today()
    start = end - timedelta(days=days - 1)
    writer = HistoryWriter(Path(root), exemptions=exemptions)
    ids = account_ids(accounts)
    names = {account_id: account_name(index) for index, account_id in enumerate(ids)}
    state = {account_id: rng.choices([m for m, _ in _INITIAL], [w for _, w in _INITIAL])[0] for account_id in ids}
    joined = {
        account_id: (start if rng.random() < 0.9 else start + timedelta(days=rng.randrange(days))) for account_id in ids
    }
    denied = set(ids[3:5]) if accounts >= 20 else set()
    suspended = ids[5] if accounts >= 20 else None
    for offset in range(days):
        day = start + timedelta(days=offset)
        audits = [
            Audit(
                MANAGEMENT_ACCOUNT_ID,
                status=AuditStatus.SKIPPED,
                error_code="MANAGEMENT_ACCOUNT",
                error_message="the management account is not audited",
                account_name="management",
            )
        ]
        for account_id in ids:
            if joined[account_id] > day:
                continue
            kinds = _evolve(rng, state[account_id])
            state[account_id] = kinds
            name = names[account_id]
            if account_id in denied:
                audits.append(
                    Audit(
                        account_id,
                        status=AuditStatus.ERROR,
                        error_code="ACCESS_DENIED",
                        error_message=SCP_DENY_MESSAGE.format(account_id=account_id),
                        account_name=name,
                    )
                )
            elif account_id == suspended and offset >= days // 2:
                audits.append(
                    Audit(
                        account_id,
                        status=AuditStatus.SKIPPED,
                        error_code="SUSPENDED",
                        error_message="account state SUSPENDED",
                        account_name=name,
                    )
                )
            elif rng.random() < 0.004:
                code = rng.choice(("THROTTLED", "NOT_AUDITED", "ACCESS_DENIED"))
                audits.append(
                    Audit(
                        account_id,
                        status=AuditStatus.ERROR,
                        error_code=code,
                        error_message=f"{code.lower().replace('_', ' ')} (simulated)",
                        account_name=name,
                    )
                )
            else:
                audits.append(Audit(account_id, kinds=kinds, account_name=name))
        writer.run(day, audits)
    return writer


def _evolve(rng: random.Random, kinds: frozenset[str]) -> frozenset[str]:
    """One night of drift: rarely a credential appears; present ones are sometimes removed."""
    if kinds and rng.random() < 0.01:
        return frozenset()
    if rng.random() < 0.002:
        return kinds | set(rng.choices(KINDS, weights=_APPEAR_WEIGHTS))
    return kinds


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m rootwatch_cli.analytics.history OUT_DIR [--days N] [--accounts N] [--seed S]``."""
    parser = argparse.ArgumentParser(prog="python -m rootwatch_cli.analytics.history", description=main.__doc__)
    parser.add_argument("out_dir")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    writer = generate_history(args.out_dir, days=args.days, accounts=args.accounts, seed=args.seed)
    size = writer.size_on_disk()
    print(f"{writer.records} records in {writer.files} objects, {size:,} bytes under {args.out_dir}/results")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
