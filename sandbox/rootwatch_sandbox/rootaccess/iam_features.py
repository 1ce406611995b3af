"""IAM's organization features (RootCredentialsManagement, RootSessions): list, enable, disable."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from moto.core.responses import BaseResponse

from rootwatch_sandbox import orgview
from rootwatch_sandbox.rootstate import ORGANIZATION_FEATURES, STATE, RootSession
from rootwatch_sandbox.sandbox_errors import SandboxError

if TYPE_CHECKING:
    from rootwatch_sandbox.rootaccess.handler_types import Handler


def _features_context(resp: BaseResponse, management_only: bool) -> tuple[Any, str]:
    """The caller's org backend and org id, after the checks IAM makes for its organization-features API."""
    caller = resp.current_account
    backend = orgview.management_backend(caller)
    org = backend.org if backend is not None else None
    if backend is None or org is None:
        raise SandboxError(
            "OrganizationNotFoundException",
            "The request was rejected because no organization is associated with your account.",
            400,
        )
    is_management = org.master_account_id == caller
    if not is_management and not orgview.is_iam_delegated_admin(backend, caller):
        raise SandboxError(
            "AccountNotManagementOrDelegatedAdministratorException",
            "The request was rejected because the account making the request is not the management account or "
            "delegated administrator account for centralized root access.",
            400,
        )
    if management_only and not is_management:
        raise SandboxError(
            "CallerIsNotManagementAccountException",
            "The request was rejected because the account making the request is not the management account for "
            "the organization.",
            400,
        )
    if org.feature_set != "ALL":
        raise SandboxError(
            "OrganizationNotInAllFeaturesModeException",
            "The request was rejected because your organization does not have All features enabled. For more "
            "information, see Available feature sets in the AWS Organizations User Guide.",
            400,
        )
    if not orgview.trusted_access_enabled(backend):
        raise SandboxError(
            "ServiceAccessNotEnabledException",
            "The request was rejected because trusted access is not enabled for IAM in AWS Organizations. For "
            "details, see IAM and AWS Organizations in the AWS Organizations User Guide.",
            400,
        )
    return backend, org.id


def _features_answer(organization_id: str, features: set[str]) -> dict[str, Any]:
    return {
        "OrganizationId": organization_id,
        "EnabledFeatures": [feature for feature in ORGANIZATION_FEATURES if feature in features],
    }


def list_organizations_features(resp: BaseResponse, session: RootSession | None) -> dict[str, Any]:
    """Which of RootCredentialsManagement and RootSessions the org has enabled."""
    _, organization_id = _features_context(resp, management_only=False)
    return _features_answer(organization_id, STATE.enabled_features(organization_id))


def set_feature(feature: str, enabled: bool) -> Handler:
    def handle(resp: BaseResponse, session: RootSession | None) -> dict[str, Any]:
        _, organization_id = _features_context(resp, management_only=True)
        return _features_answer(organization_id, STATE.set_feature(organization_id, feature, enabled))

    return handle
