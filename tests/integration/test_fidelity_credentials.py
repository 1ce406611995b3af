"""Wrong credentials fail through the sandbox's HTTP server as they fail in AWS (issue 11, item 2).

Each case is a client that fell back to the wrong credentials: a wrong secret key, an unknown ``ASIA`` key, a
missing or another session's token. AWS answers per protocol (docs/sandbox.md, "Credentials and signatures").
"""

from __future__ import annotations

import os
import shutil
import subprocess
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.integration.fidelity_support import AUDIT, REGION, S3_UNLOCK

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details."
)
INVALID = "The security token included in the request is invalid."


@pytest.fixture
def server(exported_sandbox_server: Any) -> Any:
    """The module's server with a fresh org of two members (the management account is 123456789012)."""
    reset = urllib.request.Request(exported_sandbox_server.endpoint_url + "/moto-api/reset", method="POST")  # noqa: S310
    urllib.request.urlopen(reset, timeout=30).close()  # noqa: S310 -- the test's own local server
    exported_sandbox_server.members = [
        a["account_id"] for a in exported_sandbox_server.seed("/demo-org", {"accounts": 2, "seed": 4})["accounts"]
    ]
    return exported_sandbox_server


def client(
    server: Any,
    service: str,
    key: str = "testing",
    secret: str = "testing",  # noqa: S107 - the documented sandbox default
    token: str | None = None,
) -> Any:
    return boto3.client(
        service,
        endpoint_url=server.endpoint_url,
        region_name=REGION,
        config=NO_RETRIES,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
    )


def error(call: Any, **kwargs: Any) -> tuple[str, str, int]:
    try:
        call(**kwargs)
    except ClientError as failure:
        return (
            failure.response["Error"]["Code"],
            failure.response["Error"].get("Message", ""),
            failure.response["ResponseMetadata"]["HTTPStatusCode"],
        )
    raise AssertionError("the call succeeded")


def root_credentials(server: Any, account: str, policy: str = AUDIT) -> dict[str, str]:
    return client(server, "sts").assume_root(TargetPrincipal=account, TaskPolicyArn={"arn": policy})["Credentials"]


def test_the_documented_defaults_stay_the_management_account(server):
    identity = client(server, "sts").get_caller_identity()

    assert identity["Account"] == "123456789012"


def test_a_wrong_secret_key_is_signature_does_not_match_in_every_protocol(server):
    assert error(client(server, "sts", secret="wrong").get_caller_identity) == ("SignatureDoesNotMatch", SIGNATURE, 403)
    assert error(client(server, "iam", secret="wrong").list_users)[0] == "SignatureDoesNotMatch"
    assert error(client(server, "organizations", secret="wrong").list_accounts)[:2] == (
        "InvalidSignatureException",
        SIGNATURE,
    )
    code, message, status = error(client(server, "s3", secret="wrong").list_buckets)
    assert (code, status) == ("SignatureDoesNotMatch", 403)
    assert message.startswith("The request signature we calculated does not match the signature you provided.")


def test_an_unknown_access_key_is_invalid_client_token_id(server):
    unknown = {"key": "ASIAZZZZZZZZZZZZZZZZ", "secret": "x" * 40, "token": "FwoGZXIvYXdzEBogus"}

    assert error(client(server, "sts", **unknown).get_caller_identity) == ("InvalidClientTokenId", INVALID, 403)
    assert error(client(server, "organizations", **unknown).list_accounts)[:2] == (
        "UnrecognizedClientException",
        INVALID,
    )
    assert error(client(server, "s3", **unknown).list_buckets) == (
        "InvalidAccessKeyId",
        "The AWS Access Key Id you provided does not exist in our records.",
        403,
    )


def test_a_root_session_without_its_token_or_with_another_sessions_token_is_refused(server):
    (member, other) = server.members
    mine = root_credentials(server, member)
    theirs = root_credentials(server, other)

    without = client(server, "iam", mine["AccessKeyId"], mine["SecretAccessKey"])
    swapped = client(server, "iam", mine["AccessKeyId"], mine["SecretAccessKey"], theirs["SessionToken"])
    right = client(server, "iam", mine["AccessKeyId"], mine["SecretAccessKey"], mine["SessionToken"])

    assert error(without.get_account_summary) == ("InvalidClientTokenId", INVALID, 403)
    assert error(swapped.get_account_summary) == ("InvalidClientTokenId", INVALID, 403)
    assert right.get_account_summary()["SummaryMap"]["AccountMFAEnabled"] in (0, 1)


def test_assumed_role_sessions_and_iam_user_keys_verify(server):
    (member, _) = server.members
    role = client(server, "sts").assume_role(
        RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole", RoleSessionName="operator"
    )["Credentials"]
    session = client(server, "sts", role["AccessKeyId"], role["SecretAccessKey"], role["SessionToken"])
    iam = client(server, "iam")
    iam.create_user(UserName="auditor")
    key = iam.create_access_key(UserName="auditor")["AccessKey"]

    assert session.get_caller_identity()["Account"] == member
    assert error(client(server, "sts", role["AccessKeyId"], role["SecretAccessKey"]).get_caller_identity)[0] == (
        "InvalidClientTokenId"
    )
    user = client(server, "sts", key["AccessKeyId"], key["SecretAccessKey"])
    assert user.get_caller_identity()["Arn"] == "arn:aws:iam::123456789012:user/auditor"
    assert error(client(server, "sts", key["AccessKeyId"], "wrong").get_caller_identity)[0] == "SignatureDoesNotMatch"


def test_s3_presigned_urls_verify(server):
    s3 = client(server, "s3")
    s3.create_bucket(Bucket="presigned")
    s3.put_object(Bucket="presigned", Key="k", Body=b"hello")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "presigned", "Key": "k"}, ExpiresIn=60)
    forged = client(server, "s3", secret="wrong").generate_presigned_url(
        "get_object", Params={"Bucket": "presigned", "Key": "k"}, ExpiresIn=60
    )

    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 -- the test's own local server
        assert response.read() == b"hello"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(forged, timeout=30)  # noqa: S310
    assert refused.value.code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in refused.value.read()


def test_s3_unlock_session_in_the_wrong_account_fails_over_the_wire(server):
    (member, other) = server.members
    owner = client(server, "sts").assume_role(
        RoleArn=f"arn:aws:iam::{other}:role/OrganizationAccountAccessRole", RoleSessionName="setup"
    )["Credentials"]
    setup = client(server, "s3", owner["AccessKeyId"], owner["SecretAccessKey"], owner["SessionToken"])
    setup.create_bucket(Bucket="theirs")
    setup.put_bucket_policy(Bucket="theirs", Policy='{"Version":"2012-10-17","Statement":[]}')
    creds = root_credentials(server, member, S3_UNLOCK)
    s3 = client(server, "s3", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])

    assert error(s3.delete_bucket_policy, Bucket="theirs", ExpectedBucketOwner=member)[0] == "AccessDenied"
    assert error(s3.get_bucket_policy, Bucket="theirs")[0] == "AccessDenied"


@pytest.mark.skipif(shutil.which("aws") is None, reason="no AWS CLI on PATH")
def test_the_aws_cli_with_a_wrong_secret_fails(server):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="wrong", AWS_DEFAULT_REGION=REGION)
    command = ["aws", "sts", "get-caller-identity", "--endpoint-url", server.endpoint_url]

    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    env["AWS_SECRET_ACCESS_KEY"] = "testing"
    fine = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)

    assert done.returncode != 0
    assert "SignatureDoesNotMatch" in done.stderr
    assert fine.returncode == 0, fine.stderr
    assert '"Account": "123456789012"' in fine.stdout
