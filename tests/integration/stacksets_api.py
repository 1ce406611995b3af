"""Test-only emulation of CloudFormation's ActivateOrganizationsAccess, which moto does not implement.

As in AWS, activating trusted access for StackSets makes Organizations list its service principal; moto's
Organizations is also taught to accept that principal for delegated administrators.
"""

from __future__ import annotations

from typing import Any

import pytest
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult
from moto.organizations.models import FakeDelegatedAdministrator, organizations_backends
from rootwatch_cli.operations.enable import STACKSETS_SERVICE_PRINCIPAL


def install(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Patch moto for the test; returns the list of accounts that called ActivateOrganizationsAccess."""
    calls: list[str] = []

    def activate_organizations_access(self: Any) -> ActionResult:
        calls.append(self.current_account)
        for partition in organizations_backends[self.current_account].values():
            if partition.org is not None:
                partition.enable_aws_service_access(ServicePrincipal=STACKSETS_SERVICE_PRINCIPAL)
        return ActionResult({})

    monkeypatch.setattr(
        CloudFormationResponse, "activate_organizations_access", activate_organizations_access, raising=False
    )
    monkeypatch.setattr(
        FakeDelegatedAdministrator,
        "SUPPORTED_SERVICES",
        [*FakeDelegatedAdministrator.SUPPORTED_SERVICES, STACKSETS_SERVICE_PRINCIPAL],
    )
    return calls
