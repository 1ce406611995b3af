"""moto's IAM policy validation, corrected where it refuses policies real IAM accepts.

moto 5.2.5 answers ``MalformedPolicyDocument`` ("IAM resource path must either be "*" or start with user/, ...")
for the resource ``arn:aws:iam::*:root`` (or ``arn:aws:iam::<account>:root``), the resource of ``sts:AssumeRoot``
grants (AWS's documentation and rootwatch's AuditAccount role use it). IAM accepts it; so does the sandbox.
"""

from __future__ import annotations

import re
from typing import Any

_ROOT_RESOURCE = re.compile(r"^arn:aws[a-z-]*:iam::(\*|\d{12}):root$")
_installed = False


def install() -> None:
    """Accept ``arn:<partition>:iam::<account|*>:root`` as a policy resource. Idempotent."""
    global _installed
    if _installed:
        return
    from moto.iam.policy_validation import BaseIAMPolicyValidator

    original = BaseIAMPolicyValidator._validate_resource_format

    def validate_resource_format(self: Any, resource: str) -> None:
        if isinstance(resource, str) and _ROOT_RESOURCE.match(resource):
            return
        original(self, resource)

    BaseIAMPolicyValidator._validate_resource_format = validate_resource_format  # type: ignore[method-assign]
    _installed = True
