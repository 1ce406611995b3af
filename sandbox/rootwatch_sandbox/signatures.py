"""The sandbox checks credentials as AWS does: a known access key, its session token, and a SigV4 signature.

rootaccess's choke point calls :func:`verify` for every moto request (S3's authorization hook included), before
anything else. A request signed with credentials the sandbox did not issue, a wrong secret key, a missing or
another session's token, or an expired ``sts:AssumeRole`` session fails with the error AWS answers in that
service's protocol (docs/sandbox.md, "Credentials and signatures").

Known credentials:

* the documented defaults ``testing``/``testing`` (and moto's in-process mock keys ``FOOBARKEY``/``FOOBARSECRET``),
  the management account's administrator, with any or no session token;
* access keys of IAM users that moto holds (``CreateAccessKey``), inactive ones refused;
* sessions moto's STS issued: ``AssumeRole`` (and the web-identity/SAML variants) with their session token;
  ``GetSessionToken``/``GetFederationToken`` answer moto's fixed example credentials, accepted with either token;
* root sessions from ``AssumeRoot`` (``rootstate.RootSession`` keeps their secrets).

Verified: the SigV4 ``Authorization`` header, SigV4 query (presigned) requests and S3's SigV2 presigned URLs
(boto3's default for ``generate_presigned_url``), for what botocore (boto3, the
AWS CLI) sends: canonical URI (S3 unnormalized), canonical query, the signed headers, and the payload hash from
``x-amz-content-sha256`` when sent (S3's ``UNSIGNED-PAYLOAD`` and ``STREAMING-...`` forms included; chunk
signatures are not checked), else the SHA-256 of the body. Accepted without a check: unsigned requests
(anonymous S3 access and the like), SigV2 ``Authorization`` headers, SigV4A, gzip-compressed bodies, and
the request's clock skew.

The switch: :func:`set_enabled`, else ``ROOTWATCH_SANDBOX_VERIFY_SIGNATURES=off``; on by default.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from io import BytesIO
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from botocore.utils import normalize_url_path

from rootwatch_sandbox.rootstate import STATE
from rootwatch_sandbox.sandbox_errors import SandboxError
from rootwatch_sandbox.switches import Switch

ENV = "ROOTWATCH_SANDBOX_VERIFY_SIGNATURES"
_SWITCH = Switch(ENV)

#: Credentials that act as the management account's administrator, with any (or no) session token.
DEFAULT_CREDENTIALS = {"testing": "testing", "FOOBARKEY": "FOOBARSECRET"}
#: moto's GetSessionToken / GetFederationToken answer these fixed example credentials (moto/sts/responses.py).
_MOTO_TOKEN_KEY = "AKIAIOSFODNN7EXAMPLE"  # noqa: S105 - moto's public example key id
_MOTO_TOKEN_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"  # noqa: S105 - moto's public example secret
_MOTO_TOKEN_PREFIXES = ("AQoEXAMPLEH4aoAH0gNCAPy", "AQoDYXdzEPT//////////wEXAMPLE")

#: Services whose errors follow the Query protocol's common errors (InvalidClientTokenId, SignatureDoesNotMatch).
_QUERY_SERVICES = frozenset(
    {
        "sts",
        "iam",
        "sns",
        "sqs",
        "cloudformation",
        "elb",
        "elbv2",
        "rds",
        "autoscaling",
        "ses",
        "redshift",
        "cloudwatch",
    }
)

INVALID_TOKEN_MESSAGE = "The security token included in the request is invalid."  # noqa: S105 - an error message
EXPIRED_TOKEN_MESSAGE = "The security token included in the request is expired"  # noqa: S105 - an error message
SIGNATURE_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details."
)


def set_enabled(enabled: bool | None) -> None:
    """Turn verification on or off for the process; None falls back to ``$ROOTWATCH_SANDBOX_VERIFY_SIGNATURES``."""
    _SWITCH.set(enabled)


def enabled() -> bool:
    return _SWITCH.enabled()


# --- the errors, per protocol -------------------------------------------------------------------------------
def unknown_key_error(service: str) -> SandboxError:
    """An access key id (or session token) AWS does not know."""
    if service == "s3":
        return SandboxError(
            "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", 403
        )
    if service == "ec2":
        return SandboxError("AuthFailure", "AWS was not able to validate the provided access credentials", 401)
    if service in _QUERY_SERVICES:
        return SandboxError("InvalidClientTokenId", INVALID_TOKEN_MESSAGE, 403)
    return SandboxError("UnrecognizedClientException", INVALID_TOKEN_MESSAGE, 400 if service == "dynamodb" else 403)


def invalid_token_error(service: str) -> SandboxError:
    """A known temporary key with a missing or wrong session token."""
    if service == "s3":
        return SandboxError("InvalidToken", "The provided token is malformed or otherwise invalid.", 400)
    return unknown_key_error(service)


def expired_token_error(service: str) -> SandboxError:
    if service == "s3":
        return SandboxError("ExpiredToken", "The provided token has expired.", 400)
    if service in _QUERY_SERVICES or service == "ec2":
        return SandboxError("ExpiredToken", EXPIRED_TOKEN_MESSAGE, 403)
    return SandboxError("ExpiredTokenException", EXPIRED_TOKEN_MESSAGE, 400 if service == "dynamodb" else 403)


def signature_error(service: str) -> SandboxError:
    if service == "s3":
        return SandboxError(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
            403,
        )
    if service == "ec2":
        return SandboxError("AuthFailure", "AWS was not able to validate the provided access credentials", 401)
    if service in _QUERY_SERVICES:
        return SandboxError("SignatureDoesNotMatch", SIGNATURE_MESSAGE, 403)
    return SandboxError("InvalidSignatureException", SIGNATURE_MESSAGE, 400 if service == "dynamodb" else 403)


# --- which credentials ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Known:
    secret: str
    tokens: tuple[str, ...] | None  # None: any token or none; () no token allowed; else one of these
    expiration: dt.datetime | None = None
    token_prefixes: tuple[str, ...] = ()


def _known_credentials(access_key_id: str) -> _Known | None:
    """The secret (and the session token it needs) for an access key the sandbox issued; None if unknown."""
    default = DEFAULT_CREDENTIALS.get(access_key_id)
    if default is not None:
        return _Known(default, None)
    if access_key_id == _MOTO_TOKEN_KEY:
        return _Known(_MOTO_TOKEN_SECRET, (), token_prefixes=_MOTO_TOKEN_PREFIXES)
    root = STATE.session_for(access_key_id)
    if root is not None:  # its expiry is the choke point's business (the sandbox clock)
        return _Known(root.secret_access_key, (root.session_token,))
    from moto.iam import models as iam_models
    from moto.sts.models import sts_backends

    account = iam_models.get_account_id_from(access_key_id)
    for partition in ("aws",):
        key = iam_models.iam_backends[account][partition].access_keys.get(access_key_id)
        if key is None:
            continue
        if key.role_arn is None:  # an IAM user's long-term key
            return _Known(key.secret_access_key, ()) if key.status == "Active" else None
        assumed = sts_backends[account][partition].get_assumed_role_from_access_key(access_key_id)
        if assumed is None:
            return None
        return _Known(key.secret_access_key, (assumed.session_token,), expiration=assumed.expiration)
    return None


# --- the request --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Signed:
    access_key_id: str
    date: str  # 20240101
    region: str
    service: str
    signed_headers: list[str]
    signature: str
    timestamp: str  # 20240101T000000Z
    token: str | None
    presigned: bool


def _parse(request: Any) -> _Signed | None:
    """The SigV4 signature a request carries (header or query); None for unsigned or non-SigV4 requests."""
    authorization = request.headers.get("Authorization", "")
    if authorization.startswith("AWS4-HMAC-SHA256 "):
        fields = {}
        for part in authorization[len("AWS4-HMAC-SHA256 ") :].split(","):
            name, _, value = part.strip().partition("=")
            fields[name] = value
        timestamp = request.headers.get("X-Amz-Date") or ""
        token = request.headers.get("X-Amz-Security-Token")
        credential, signed, signature, presigned = (
            fields.get("Credential", ""),
            fields.get("SignedHeaders", ""),
            fields.get("Signature", ""),
            False,
        )
    elif request.args.get("X-Amz-Algorithm") == "AWS4-HMAC-SHA256":
        credential = request.args.get("X-Amz-Credential", "")
        signed = request.args.get("X-Amz-SignedHeaders", "")
        signature = request.args.get("X-Amz-Signature", "")
        timestamp = request.args.get("X-Amz-Date", "")
        token = request.args.get("X-Amz-Security-Token")
        presigned = True
    else:
        return None
    parts = credential.split("/")
    if len(parts) != 5 or not timestamp:
        return None  # malformed: left to the service (moto) as before
    return _Signed(
        access_key_id=parts[0],
        date=parts[1],
        region=parts[2],
        service=parts[3],
        signed_headers=[h for h in signed.split(";") if h],
        signature=signature,
        timestamp=timestamp,
        token=token,
        presigned=presigned,
    )


def _raw_body(request: Any) -> bytes:
    raw = request.__dict__.get("_rootwatch_raw_body")
    if raw is not None:
        return raw  # type: ignore[no-any-return]
    data = request.get_data(cache=True)
    return data if isinstance(data, bytes) else data.encode()


def _canonical_request(request: Any, signed: _Signed) -> str:
    path = request.raw_path
    if signed.service != "s3":
        path = quote(normalize_url_path(path), safe="/~")
    query_string = request.query_string.decode()
    pairs = []
    if query_string:
        for pair in query_string.split("&"):
            key, _, value = pair.partition("=")
            if signed.presigned and key == "X-Amz-Signature":
                continue
            pairs.append((key, value))
    query = "&".join(f"{key}={value}" for key, value in sorted(pairs))
    headers = []
    for name in signed.signed_headers:
        values = request.headers.getlist(name)
        headers.append(f"{name}:{','.join(' '.join(value.split()) for value in values)}")
    payload_hash = request.headers.get("X-Amz-Content-SHA256")
    if payload_hash is None:
        if signed.presigned and signed.service == "s3":
            payload_hash = "UNSIGNED-PAYLOAD"
        else:
            payload_hash = hashlib.sha256(_raw_body(request)).hexdigest()
    return "\n".join(
        [request.method.upper(), path, query, "\n".join(headers) + "\n", ";".join(signed.signed_headers), payload_hash]
    )


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def signature_for(request: Any, signed: _Signed, secret: str) -> str:
    """The SigV4 signature of ``request`` with ``secret``, over the headers the request says it signed."""
    canonical = _canonical_request(request, signed)
    scope = f"{signed.date}/{signed.region}/{signed.service}/aws4_request"
    string_to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", signed.timestamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _hmac(f"AWS4{secret}".encode(), signed.date)
    for part in (signed.region, signed.service, "aws4_request"):
        key = _hmac(key, part)
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def _verify_sigv2_query(request: Any) -> None:
    """S3's SigV2 presigned URL (``AWSAccessKeyId``/``Signature``/``Expires``: what boto3 presigns by default)."""
    from botocore.auth import HmacV1Auth
    from botocore.credentials import Credentials

    key_id = request.args.get("AWSAccessKeyId", "")
    known = _known_credentials(key_id)
    if known is None:
        raise unknown_key_error("s3")
    token = request.args.get("x-amz-security-token")
    if known.tokens and token not in known.tokens:
        raise invalid_token_error("s3")
    signer = HmacV1Auth(Credentials(key_id, known.secret))
    custom = "".join(
        f"{name.lower()}:{value}\n" for name, value in sorted(request.args.items()) if name.lower().startswith("x-amz-")
    )
    head = "\n".join(
        [
            request.method.upper(),
            request.headers.get("Content-MD5", ""),
            request.headers.get("Content-Type", ""),
            request.args.get("Expires", ""),
        ]
    )
    split = urlsplit(request.raw_url)
    host = (request.headers.get("Host") or "").split(":")[0]
    paths = [request.raw_path]
    if ".s3" in host and not host.startswith("s3"):  # virtual-hosted style: the bucket is the first label
        paths.append("/" + host.split(".s3", 1)[0] + request.raw_path)
    wanted = request.args.get("Signature", "")
    for path in paths:
        canonical = f"{head}\n{custom}{signer.canonical_resource(split, auth_path=path)}"
        if hmac.compare_digest(signer.sign_string(canonical), wanted):
            return
    raise signature_error("s3")


def verify(resp: Any, service: str) -> None:
    """Raise AWS's error unless the request's credentials are known and its signature is right."""
    if not enabled():
        return
    request = getattr(resp, "normalized_request", None)
    if request is None:
        return
    signed = _parse(request)
    if signed is None:
        if service == "s3" and "Signature" in request.args and "AWSAccessKeyId" in request.args:
            _verify_sigv2_query(request)
        return  # unsigned, SigV2 headers or SigV4A: accepted (documented)
    service = "lambda" if service == "awslambda" else service
    known = _known_credentials(signed.access_key_id)
    if known is None:
        raise unknown_key_error(service)
    token = unquote(signed.token) if signed.token and signed.presigned else signed.token
    if known.tokens is not None:
        if known.token_prefixes:
            if token is not None and not token.startswith(known.token_prefixes):
                raise invalid_token_error(service)
        elif tuple(known.tokens) == ():
            if token:
                raise invalid_token_error(service)
        elif token not in known.tokens:
            raise invalid_token_error(service)
    if known.expiration is not None:
        expiration = known.expiration if known.expiration.tzinfo else known.expiration.replace(tzinfo=dt.UTC)
        if dt.datetime.now(dt.UTC) >= expiration:
            raise expired_token_error(service)
    if (request.headers.get("Content-Encoding") or "").lower() == "gzip":
        return  # the body was decompressed before we saw it: its signature cannot be recomputed (documented)
    if not hmac.compare_digest(signature_for(request, signed, known.secret), signed.signature):
        raise signature_error(service)


# --- keeping the raw body of form posts ---------------------------------------------------------------------
def install() -> None:
    """werkzeug's form parsing consumes a Query-protocol request's body; keep a copy for the payload hash."""
    from moto.core.request import Request

    if getattr(Request, "_rootwatch_keeps_body", False):
        return
    original = Request._load_form_data

    def _load_form_data(self: Any) -> None:
        if "form" not in self.__dict__ and getattr(self, "_cached_data", None) is None and self.want_form_data_parsed:
            raw = self.stream.read()
            self.__dict__["_rootwatch_raw_body"] = raw
            self.__dict__["stream"] = BytesIO(raw)
        original(self)

    Request._load_form_data = _load_form_data  # type: ignore[method-assign]
    Request._rootwatch_keeps_body = True  # type: ignore[attr-defined]


__all__ = ["DEFAULT_CREDENTIALS", "ENV", "enabled", "install", "set_enabled", "signature_for", "verify"]
