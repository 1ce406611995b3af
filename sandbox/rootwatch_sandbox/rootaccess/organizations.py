"""Organizations as AWS answers it for rootwatch: who may read the org; ListAccounts, ListAccountsForParent and
ListOrganizationalUnitsForParent pages of at most 20."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from moto.core.responses import BaseResponse
from moto.organizations.exceptions import OrganizationsClientError as RESTError

from rootwatch_sandbox import orgview
from rootwatch_sandbox.iam_enforcement import json_body
from rootwatch_sandbox.rootaccess.exceptions import invalid_input
from rootwatch_sandbox.rootstate import RootSession
from rootwatch_sandbox.sandbox_errors import SandboxError

if TYPE_CHECKING:
    from rootwatch_sandbox.rootaccess.handler_types import Response


LIST_ACCOUNTS_MAX_RESULTS = 20


def encode_page_token(offset: int) -> str:
    """An opaque ListAccounts NextToken for the page starting at ``offset``."""
    return base64.urlsafe_b64encode(json.dumps({"rootwatch-offset": offset}).encode()).decode()


def decode_page_token(token: str) -> int:
    """The offset in a NextToken made by ``encode_page_token``; ValueError for anything else."""
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["rootwatch-offset"]
    except (binascii.Error, ValueError, KeyError, TypeError) as error:
        raise ValueError(token) from error
    if not isinstance(offset, int) or offset < 0:
        raise ValueError(token)
    return offset


NOT_IN_ORGANIZATION = "Your account is not a member of an organization."


def _org_reader_backend(resp: BaseResponse) -> Any:
    """The caller's org backend, if the caller may read the org (its management account or a delegated
    administrator); else AWS's AWSOrganizationsNotInUseException (no org) or AccessDeniedException (a member).
    moto answered both with an empty ListAccounts and DescribeAccount with AccountNotFoundException, which would
    let a run with the wrong credentials report 0 accounts."""
    caller = resp.current_account
    backend = orgview.management_backend(caller)
    if backend is None or backend.org is None:
        raise SandboxError("AWSOrganizationsNotInUseException", NOT_IN_ORGANIZATION, 400)
    if backend.org.master_account_id != caller and not orgview.is_delegated_admin(backend, caller):
        raise SandboxError("AccessDeniedException", "You don't have permissions to access this resource.", 400)
    return backend


def describe_account(resp: BaseResponse, session: RootSession | None) -> None:
    """Only who may read the org may describe its accounts; the answer itself is moto's."""
    _org_reader_backend(resp)


def list_roots(resp: BaseResponse, session: RootSession | None) -> None:
    """Only who may read the org may list its roots; the answer itself is moto's (one root, named Root)."""
    _org_reader_backend(resp)


def list_accounts(resp: BaseResponse, session: RootSession | None) -> Response | None:
    """ListAccounts as AWS pages it: MaxResults 1-20 (default 20), opaque NextToken, with State and Status."""
    backend = _org_reader_backend(resp)
    return _paged(resp, "Accounts", backend.accounts, _describe_account)


def list_accounts_for_parent(resp: BaseResponse, session: RootSession | None) -> Response | None:
    """ListAccountsForParent, paged as ListAccounts is; an unknown ParentId answers moto's
    ParentNotFoundException."""
    backend = _org_reader_backend(resp)
    parent_id = _parent_id(resp, backend)
    return _paged(resp, "Accounts", [a for a in backend.accounts if a.parent_id == parent_id], _describe_account)


def list_organizational_units_for_parent(resp: BaseResponse, session: RootSession | None) -> Response | None:
    """ListOrganizationalUnitsForParent, paged as ListAccounts is."""
    backend = _org_reader_backend(resp)
    parent_id = _parent_id(resp, backend)
    children = [ou for ou in backend.ou if ou.parent_id == parent_id]
    return _paged(resp, "OrganizationalUnits", children, lambda ou: ou.describe()["OrganizationalUnit"])


def _parent_id(resp: BaseResponse, backend: Any) -> str:
    parent_id = json_body(resp).get("ParentId")
    if not isinstance(parent_id, str) or not parent_id:
        raise invalid_input("INVALID_PARTY_TYPE_TARGET", "You specified an invalid value for ParentId.")
    try:
        return str(backend.validate_parent_id(parent_id))
    except RESTError:
        raise SandboxError("ParentNotFoundException", "You specified parent that doesn't exist.", 400) from None


def _describe_account(account: Any) -> dict[str, Any]:
    return dict(account.describe())


def _paged(resp: BaseResponse, key: str, items: list[Any], render: Callable[[Any], dict[str, Any]]) -> Response:
    """One page of ``items`` under ``key`` as AWS pages a List call: MaxResults 1-20 (default 20), an opaque
    NextToken while more remain, InvalidInputException for a bad MaxResults or a forged token."""
    params = json_body(resp)
    max_results = params.get("MaxResults", LIST_ACCOUNTS_MAX_RESULTS)
    if not isinstance(max_results, int) or max_results < 1:
        raise invalid_input(
            "MIN_VALUE_EXCEEDED", "You provided a value that is smaller than the minimum allowed value."
        )
    if max_results > LIST_ACCOUNTS_MAX_RESULTS:
        raise invalid_input("MAX_VALUE_EXCEEDED", "You provided a value that exceeds the maximum allowed value.")
    token = params.get("NextToken")
    try:
        offset = decode_page_token(token) if token else 0
    except ValueError:
        raise invalid_input("INVALID_PAGINATION_TOKEN", "You specified an invalid value for nextToken.") from None
    body: dict[str, Any] = {key: [render(item) for item in items[offset : offset + max_results]]}
    if offset + max_results < len(items):
        body["NextToken"] = encode_page_token(offset + max_results)
    headers = dict(resp.response_headers)
    headers["content-type"] = "application/x-amz-json-1.1"
    headers, text = resp._enrich_response(headers, json.dumps(body))
    return 200, headers, text
