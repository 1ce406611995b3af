"""Read-only questions about moto's Organizations state that the root-access emulation needs.

moto keeps the organization in the management account's backend and maps each member to it in
``organizations_backends.master_accounts``. Lookups here are O(1) so that a 10,000-account org
stays fast (moto's own ``get_account_by_id`` scans a list).
"""

from __future__ import annotations

from typing import Any

from moto.organizations.models import OrganizationsBackend, organizations_backends

#: The sandbox's management account (moto's default account id): the demo org and the tests use it.
MANAGEMENT_ACCOUNT_ID = "123456789012"
IAM_SERVICE_PRINCIPAL = "iam.amazonaws.com"
PARTITION = "aws"


def management_backend(account_id: str) -> OrganizationsBackend | None:
    """The Organizations backend of the org that ``account_id`` belongs to (as manager or member), if any."""
    owner = organizations_backends.master_accounts.get(account_id)
    if owner is not None:
        backend = organizations_backends[owner[0]][owner[1]]
        return backend if backend.org is not None else None
    if account_id in organizations_backends:
        backend = organizations_backends[account_id][PARTITION]
        if backend.org is not None:
            return backend
    return None


def find_account(backend: OrganizationsBackend, account_id: str) -> Any | None:
    """The org's FakeAccount with this id, or None. Uses an index rebuilt whenever the account list changed size."""
    index: dict[str, Any] | None = getattr(backend, "_rootwatch_account_index", None)
    if index is None or len(index) != len(backend.accounts):
        index = {account.id: account for account in backend.accounts}
        backend._rootwatch_account_index = index  # type: ignore[attr-defined]
    account = index.get(account_id)
    if account is not None and account.id != account_id:  # the list was edited in place; rebuild once
        backend._rootwatch_account_index = None  # type: ignore[attr-defined]
        return find_account(backend, account_id)
    return account


def trusted_access_enabled(backend: OrganizationsBackend) -> bool:
    """Whether ``organizations enable-aws-service-access --service-principal iam.amazonaws.com`` was run."""
    return any(service["ServicePrincipal"] == IAM_SERVICE_PRINCIPAL for service in backend.services)


def is_iam_delegated_admin(backend: OrganizationsBackend, account_id: str) -> bool:
    """Whether ``account_id`` is registered as delegated administrator for iam.amazonaws.com."""
    return any(admin.account.id == account_id and IAM_SERVICE_PRINCIPAL in admin.services for admin in backend.admins)


def account_state(account: Any) -> str:
    """The Organizations ``State`` of a FakeAccount."""
    return str(getattr(account, "state", None) or account.status)


def is_delegated_admin(backend: OrganizationsBackend, account_id: str) -> bool:
    """Whether ``account_id`` is a delegated administrator for any service: such accounts may read the org."""
    return any(admin.account.id == account_id for admin in backend.admins)
