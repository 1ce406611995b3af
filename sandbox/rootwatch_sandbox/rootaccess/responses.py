"""The sandbox's answer to a moto request: the checks, then the operations moto lacks or gets wrong.

:func:`intercept` is called for every moto request (moto_patches puts it in front of ``BaseResponse.call_action``);
``HANDLERS`` names the operations answered here instead of by moto.
"""

from __future__ import annotations

from moto.core.responses import ActionResult, BaseResponse

from rootwatch_sandbox import iam_enforcement, rootuser_api, signatures
from rootwatch_sandbox.rootaccess.authorization import authorize_root_session, check_other_caller, check_queue_account
from rootwatch_sandbox.rootaccess.handler_types import Handler, Response
from rootwatch_sandbox.rootaccess.iam_features import list_organizations_features, set_feature
from rootwatch_sandbox.rootaccess.organizations import (
    describe_account,
    list_accounts,
    list_accounts_for_parent,
    list_organizational_units_for_parent,
    list_roots,
)
from rootwatch_sandbox.rootaccess.root_user import root_user_call
from rootwatch_sandbox.rootaccess.sts import assume_root, get_caller_identity
from rootwatch_sandbox.rootstate import ROOT_CREDENTIALS_MANAGEMENT, ROOT_SESSIONS, STATE
from rootwatch_sandbox.sandbox_errors import SandboxError


def _serialize(resp: BaseResponse, result: object) -> Response:
    status, headers, body = resp.serialized(ActionResult(result))
    headers, body = resp._enrich_response(headers, body)
    return status, headers, body


def intercept(resp: BaseResponse) -> Response | None:
    """The sandbox's answer to this request, or None to let moto answer it."""
    service = resp.service_name or ""
    action = resp._get_action()
    session = STATE.session_for(resp.access_key)
    try:
        signatures.verify(resp, service)
        if session is not None:
            authorize_root_session(session, service, action)
            if service == "sqs":
                check_queue_account(resp, session)
        else:
            iam_enforcement.check_request(resp, service, action)
            if not (service == "sts" and action == "AssumeRoot"):  # AssumeRoot's fault account is the target
                check_other_caller(resp, service, action)
        handler = HANDLERS.get((service, action))
        if handler is None:
            return None
        result = handler(resp, session)
    except SandboxError as error:
        return _serialize(resp, error)
    if result is None or isinstance(result, tuple):
        return result
    return _serialize(resp, result)


HANDLERS: dict[tuple[str, str], Handler] = {
    ("sts", "AssumeRoot"): assume_root,
    ("sts", "GetCallerIdentity"): get_caller_identity,
    ("iam", "ListOrganizationsFeatures"): list_organizations_features,
    ("iam", "EnableOrganizationsRootCredentialsManagement"): set_feature(ROOT_CREDENTIALS_MANAGEMENT, True),
    ("iam", "DisableOrganizationsRootCredentialsManagement"): set_feature(ROOT_CREDENTIALS_MANAGEMENT, False),
    ("iam", "EnableOrganizationsRootSessions"): set_feature(ROOT_SESSIONS, True),
    ("iam", "DisableOrganizationsRootSessions"): set_feature(ROOT_SESSIONS, False),
    ("organizations", "ListAccounts"): list_accounts,
    ("organizations", "ListAccountsForParent"): list_accounts_for_parent,
    ("organizations", "ListOrganizationalUnitsForParent"): list_organizational_units_for_parent,
    ("organizations", "ListRoots"): list_roots,
    ("organizations", "DescribeAccount"): describe_account,
    **{("iam", operation): root_user_call(operation) for operation in rootuser_api.HANDLERS},
}
