"""AWS Security Hub findings (ASFF) for a run: one per member account and root credential kind. Pure: no boto3.

The rules (docs/contracts.md#security-hub-findings-asff, AWS's rules in docs/aws-behaviour.md#security-hub):

- **Who imports, for whom.** With the default product ARN (``arn:aws:securityhub:<region>:<A>:product/<A>/default``)
  ``BatchImportFindings`` accepts only findings whose ``AwsAccountId`` is the calling account ``A``. So every
  finding belongs to the rootwatch (calling) account, and names the member account as its resource:
  ``Resources[0] = {"Type": "AwsAccount", "Id": "AWS::::Account:<member>"}``.
- **Stable ids.** ``Id`` is ``rootwatch/<member account>/<credential kind>``: the same finding is updated night
  after night instead of a new one piling up.
- **States.** A credential present: ``Compliance.Status`` FAILED, ``RecordState`` ACTIVE. A credential that went
  away this run (``record.disappeared``): PASSED (INFORMATIONAL), then, in a second import of the same run,
  ARCHIVED. An absent kind exempt that day is sent the same way, every night while the exemption lasts (exempt
  kinds stay out of the alerted baseline, so their removal shows as no ``disappeared``). Any other absent kind
  sends nothing. An audit that failed (ERROR) or was
  skipped learned nothing: its account's findings are left as they were.
- **Exempt.** A present kind exempt that day: ``Workflow.Status`` SUPPRESSED and the exemption's reason and
  expiry in ``Note``. Security Hub applies ``Workflow`` and ``Note`` from ``BatchImportFindings`` only when it
  *creates* the finding; so every finding also carries ``ProductFields`` ``rootwatch/Exempt`` (``true``/``false``)
  and ``rootwatch/Exemption``, which a Security Hub automation rule (docs/deploying.md) turns into the workflow
  status of a finding that already existed.
- **Severity.** The most severe finding kind of ``rootwatch.domain.findings.FINDINGS`` that applies to the
  record and concerns the credential kind (else the most severe kind concerning it); PASSED is INFORMATIONAL.
  ``Compliance.RelatedRequirements`` are the controls of the kinds concerning the credential.

Everything is a function of the records and the run's ``scanned_at``: a FinishRun retried sends the same
findings again, which Security Hub takes as the same update.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from rootwatch.domain.findings import DEFAULT_POLICY, FINDINGS, FindingKind, Policy, Severity, credential_label
from rootwatch.domain.records import CREDENTIAL_KINDS, AuditRecord, AuditStatus
from rootwatch.domain.timestamps import iso_utc, parse_utc

SCHEMA_VERSION = "2018-10-08"
GENERATOR_ID = "rootwatch/root-credentials"
TYPES = ("Software and Configuration Checks/AWS Security Best Practices",)
#: BatchImportFindings takes at most 100 findings a call.
MAX_BATCH = 100
#: ASFF text limits (Title 256, Description 1024, Remediation text and Note 512 characters).
_LIMITS = {"Title": 256, "Description": 1024, "Remediation": 512, "Note": 512}


def product_arn(account_id: str, region: str, partition: str = "aws") -> str:
    """The default product ARN of ``account_id`` in ``region``: the one product a custom integration imports as."""
    return f"arn:{partition}:securityhub:{region}:{account_id}:product/{account_id}/default"


def parse_product_arn(arn: str) -> tuple[str, str, str]:
    """(partition, region, account id) of a default product ARN; ValueError for anything else."""
    parts = arn.split(":")
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "securityhub":
        raise ValueError(f"{arn!r} is not a Security Hub product ARN")
    partition, region, account = parts[1], parts[3], parts[4]
    if parts[5] != f"product/{account}/default":
        raise ValueError(f"{arn!r} is not the default product ARN of account {account} (product/{account}/default)")
    return partition, region, account


def finding_id(member_account_id: str, credential_kind: str) -> str:
    """The stable ASFF ``Id`` of one member account's root credential kind."""
    return f"rootwatch/{member_account_id}/{credential_kind}"


def severity_label(severity: Severity | str) -> str:
    """The ASFF ``Severity.Label`` of a finding table severity (``high`` -> ``HIGH``)."""
    return Severity(severity).value.upper()


def kinds_concerning(credential_kind: str) -> tuple[FindingKind, ...]:
    """The finding kinds of the table that concern a credential kind, most urgent first."""
    return tuple(kind for kind in FINDINGS if credential_kind in kind.credentials)


def related_requirements(credential_kind: str) -> list[str]:
    """``Compliance.RelatedRequirements``: the controls (``standard id``) the kinds concerning it break."""
    references: dict[str, None] = {}
    for kind in kinds_concerning(credential_kind):
        for control in kind.controls:
            references[control.reference] = None
    return list(references)[:32]


@dataclass(frozen=True)
class SecurityHubImport:
    """What a run imports: ``current`` first, then ``archive`` (the resolved findings, now ARCHIVED)."""

    current: list[dict[str, Any]] = field(default_factory=list)
    archive: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.current) + len(self.archive)


def asff_findings(
    records: Iterable[AuditRecord],
    *,
    product_arn: str,
    run_id: str,
    scanned_at: str,
    exempt_kinds: Mapping[str, Collection[str]] | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> SecurityHubImport:
    """The run's findings (see the module docstring). ``exempt_kinds``: ``{account: kinds}`` exempt that day."""
    partition, region, account = parse_product_arn(product_arn)
    exempt_kinds = exempt_kinds or {}
    observed = iso_utc(scanned_at)
    archived_at = iso_utc(parse_utc(observed) + timedelta(seconds=1))
    result = SecurityHubImport()
    base = _Base(product_arn, partition, region, account, run_id, observed)
    for record in records:
        if record.status != AuditStatus.OK:
            continue
        present = set(record.present_kinds())
        exempt = set(exempt_kinds.get(record.account_id, ()))
        for kind in CREDENTIAL_KINDS:
            if kind in present:
                result.current.append(_finding(base, record, kind, policy, failed=True, exempt=kind in exempt))
            elif kind in record.disappeared or kind in exempt:
                # An exempt kind is kept out of the alerted baseline, so its removal is no ``disappeared``: while
                # the exemption lasts, its absence is sent as resolved every night (the same update each time).
                passed = _finding(base, record, kind, policy, failed=False, exempt=False)
                result.current.append(passed)
                result.archive.append(passed | {"RecordState": "ARCHIVED", "UpdatedAt": archived_at})
    return result


@dataclass(frozen=True)
class _Base:
    product_arn: str
    partition: str
    region: str
    account: str
    run_id: str
    observed: str


def _severity(record: AuditRecord, credential_kind: str, policy: Policy) -> Severity:
    concerning = kinds_concerning(credential_kind)
    applying = [kind for kind in concerning if kind.applies(record, policy)]
    chosen = (applying or list(concerning))[:1]
    return chosen[0].severity if chosen else Severity.MEDIUM


def _finding(
    base: _Base, record: AuditRecord, kind: str, policy: Policy, *, failed: bool, exempt: bool
) -> dict[str, Any]:
    member = record.account_id
    label = credential_label(kind)
    named = f"{record.account_name} ({member})" if record.account_name else member
    findings = [k.key for k in kinds_concerning(kind) if k.applies(record, policy)] if failed else []
    severity = _severity(record, kind, policy) if failed else Severity.INFORMATIONAL
    if failed:
        title = f"Root user {label} exists in member account {member}"
        description = (
            f"The root user of member account {named}"
            + (f", OU {record.ou_path}," if record.ou_path else "")
            + f" has {'an ' if kind == 'access_keys' else ''}{label} (rootwatch audit {base.run_id}, "
            f"{record.scanned_at}). With centralized root access, member accounts' root users should have "
            "no credentials."
        )
    else:
        title = f"Root user {label} removed from member account {member}"
        description = f"The root user of member account {named} no longer has {label} (rootwatch audit {base.run_id})."
    remediation = (
        f"Delete it: rootwatch remediate delete-root-credentials --accounts {member} --credentials {kind} "
        "--execute (a dry run without --execute). If it must stay, add an exemption (docs/deploying.md)."
    )
    requirements = related_requirements(kind)
    reason = (record.exemption_reason or "exempt by the rootwatch configuration") if exempt else ""
    finding: dict[str, Any] = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding_id(member, kind),
        "ProductArn": base.product_arn,
        "GeneratorId": GENERATOR_ID,
        "AwsAccountId": base.account,
        "Types": list(TYPES),
        "CreatedAt": base.observed,
        "UpdatedAt": base.observed,
        "Severity": {"Label": severity_label(severity), "Original": severity.value},
        "FindingProviderFields": {
            "Severity": {"Label": severity_label(severity), "Original": severity.value},
            "Types": list(TYPES),
        },
        "Title": title[: _LIMITS["Title"]],
        "Description": description[: _LIMITS["Description"]],
        "Remediation": {"Recommendation": {"Text": remediation[: _LIMITS["Remediation"]]}},
        "ProductFields": {
            "rootwatch/MemberAccountId": member,
            "rootwatch/CredentialKind": kind,
            "rootwatch/RunId": base.run_id,
            "rootwatch/Findings": ",".join(findings) or "none",
            "rootwatch/Exempt": "true" if exempt else "false",
            **({"rootwatch/Exemption": reason[: _LIMITS["Note"]]} if exempt else {}),
        },
        "Resources": [
            {
                "Type": "AwsAccount",
                "Id": f"AWS::::Account:{member}",
                "Partition": base.partition,
                "Region": base.region,
                "Details": {
                    "Other": {
                        key: value
                        for key, value in (("AccountName", record.account_name), ("OuPath", record.ou_path))
                        if value
                    }
                },
            }
        ],
        "Compliance": {"Status": "FAILED" if failed else "PASSED"},
        "RecordState": "ACTIVE",
    }
    if requirements:
        finding["Compliance"]["RelatedRequirements"] = requirements
    if not finding["Resources"][0]["Details"]["Other"]:
        del finding["Resources"][0]["Details"]
    if exempt:
        finding["Workflow"] = {"Status": "SUPPRESSED"}
        finding["Note"] = {"Text": reason[: _LIMITS["Note"]], "UpdatedBy": "rootwatch", "UpdatedAt": base.observed}
    return finding


def batches(findings: list[dict[str, Any]], size: int = MAX_BATCH) -> list[list[dict[str, Any]]]:
    """``findings`` in BatchImportFindings-sized slices."""
    return [findings[start : start + size] for start in range(0, len(findings), size)]
