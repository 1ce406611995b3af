"""The AWS errors the sandbox raises itself, serialized by moto in each service's own wire protocol."""

from __future__ import annotations

from moto.s3.exceptions import S3ClientError

#: The code each service answers "access denied" with, where it is not ``AccessDenied`` (STS, IAM, S3, SQS).
DENY_CODE = {
    "dynamodb": "AccessDeniedException",
    "lambda": "AccessDeniedException",
    "stepfunctions": "AccessDeniedException",
    "organizations": "AccessDeniedException",
    "kms": "AccessDeniedException",
    "logs": "AccessDeniedException",
    "xray": "AccessDeniedException",
    "sns": "AuthorizationError",
    "ec2": "UnauthorizedOperation",
}


def deny_code(service: str) -> str:
    """The error code ``service`` (moto's service name) answers an access denial with."""
    return DENY_CODE.get(service, "AccessDenied")


class SandboxError(S3ClientError):
    """An AWS error answer: ``code``, ``message`` and the HTTP ``status``.

    It derives from moto's S3ClientError (itself a ServiceException) so that S3's request path,
    which only catches S3ClientError, serializes it like every other service does.
    """

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(code, message)
        self.status = status
