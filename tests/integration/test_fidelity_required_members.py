"""botocore's service models as a referee (issue 11, item 6): every answer to the calls rootwatch makes carries the
members its output shape marks ``required``, except where AWS itself omits them for the root user (observed:
docs/aws-behaviour.md; listed in ROOT_OMITS and docs/sandbox.md)."""

from __future__ import annotations

from typing import Any

import boto3
import botocore.session

from tests.integration.fidelity_support import AUDIT, CREATE_PASSWORD, DELETE, REGION, build_org, root_session

#: (service, operation) -> required members AWS leaves out for root (no UserName/Path: root is no IAM user).
ROOT_OMITS = {
    ("iam", "GetUser"): {"User.UserName", "User.Path"},
    ("iam", "GetLoginProfile"): {"LoginProfile.UserName"},
    ("iam", "CreateLoginProfile"): {"LoginProfile.UserName"},
    ("iam", "ListMFADevices"): {"MFADevices[].UserName"},
    ("iam", "ListSigningCertificates"): {"Certificates[].UserName"},
}

_MODELS = botocore.session.get_session()


def missing_required(shape: Any, value: Any, path: str = "") -> set[str]:
    """The paths of required members the parsed ``value`` lacks, recursively."""
    missing: set[str] = set()
    if shape.type_name == "structure" and isinstance(value, dict):
        for name in shape.required_members:
            if name not in value:
                missing.add(f"{path}{name}")
        for name, member in shape.members.items():
            if name in value:
                missing |= missing_required(member, value[name], f"{path}{name}.")
    elif shape.type_name == "list" and isinstance(value, list):
        for item in value:
            missing |= missing_required(shape.member, item, f"{path.rstrip('.')}[].")
    return missing


def check(client: Any, operation: str, **kwargs: Any) -> set[str]:
    service = client.meta.service_model.service_name
    method = client.meta.method_to_api_mapping
    python_name = next(name for name, api in method.items() if api == operation)
    answer = getattr(client, python_name)(**kwargs)
    shape = _MODELS.get_service_model(service).operation_model(operation).output_shape
    return missing_required(shape, answer) - ROOT_OMITS.get((service, operation), set()) if shape else set()


def test_every_answer_rootwatch_reads_has_the_required_members(sandbox):
    (member, _) = build_org()
    seeded = sandbox.set_root_credentials(
        member, password=True, access_keys=["Active"], mfa_devices=["virtual"], signing_certificates=["Active"]
    )
    sts = boto3.client("sts", region_name=REGION)
    audit = root_session(member, AUDIT).client("iam")
    delete = root_session(member, DELETE).client("iam")
    create = root_session(member, CREATE_PASSWORD).client("iam")
    org = boto3.client("organizations", region_name=REGION)
    iam = boto3.client("iam", region_name=REGION)

    results = {
        "AssumeRoot": check(sts, "AssumeRoot", TargetPrincipal=member, TaskPolicyArn={"arn": AUDIT}),
        "GetCallerIdentity": check(root_session(member).client("sts"), "GetCallerIdentity"),
        "GetAccountSummary": check(audit, "GetAccountSummary"),
        "GetUser": check(audit, "GetUser"),
        "GetLoginProfile": check(audit, "GetLoginProfile"),
        "ListAccessKeys": check(audit, "ListAccessKeys"),
        "GetAccessKeyLastUsed": check(audit, "GetAccessKeyLastUsed", AccessKeyId=seeded["access_key_ids"][0]),
        "ListMFADevices": check(audit, "ListMFADevices"),
        "ListSigningCertificates": check(audit, "ListSigningCertificates"),
        "DeleteAccessKey": check(delete, "DeleteAccessKey", AccessKeyId=seeded["access_key_ids"][0]),
        "DeleteSigningCertificate": check(
            delete, "DeleteSigningCertificate", CertificateId=seeded["signing_certificate_ids"][0]
        ),
        "DeactivateMFADevice": check(delete, "DeactivateMFADevice", SerialNumber=seeded["mfa_serial_numbers"][0]),
        "DeleteLoginProfile": check(delete, "DeleteLoginProfile"),
        "CreateLoginProfile": check(create, "CreateLoginProfile"),
        "ListOrganizationsFeatures": check(iam, "ListOrganizationsFeatures"),
        "ListAccounts": check(org, "ListAccounts"),
        "DescribeOrganization": check(org, "DescribeOrganization"),
    }

    assert {operation: missing for operation, missing in results.items() if missing} == {}
