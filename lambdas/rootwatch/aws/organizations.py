"""Which member accounts to audit, and the OU path of each: a walk of the org's OU tree from its root.

DescribeOrganization, ListRoots, then for each parent (the root, each OU) ListOrganizationalUnitsForParent and
ListAccountsForParent. One ListParents call per account would cost 10,000 calls for 10,000 accounts; the walk
costs about two calls a parent plus one a page of 20 accounts, and ListAccountsForParent answers the same
``Account`` entries as ListAccounts, so nothing else is needed (docs/aws-behaviour.md#ou-walk).

AWS behaviours this module is built around (docs/aws-behaviour.md#organizations-listing-the-accounts):

- ``MaxResults`` is at most 20 on every List call, and a page can be **empty while NextToken says more
  remain**: we follow NextToken until it is absent, never stopping on an empty page.
- Account ``State`` (PENDING_ACTIVATION, ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED) replaced ``Status``,
  which was retired on 2026-09-09: read ``State``, fall back to ``Status`` only when ``State`` is missing.
- Only the known non-active states are skipped. An account whose state is missing (a botocore older than
  1.40.27 drops ``State``) or unknown is **audited anyway**: AssumeRoot gives the real answer, and a
  wrongly skipped account would go unaudited silently. Its record's ``account_state`` is
  ``NOT_REPORTED`` (or the unknown state), which the alert names.
- The management account is listed like any member; AssumeRoot cannot target it, so it is skipped.
- ``TooManyRequestsException`` is retried by botocore first, then surfaces as ``ThrottledError``.
- Without one of the four actions the caller gets AccessDenied, surfaced as ``AccessDeniedError``: there is no
  silent fallback to ListAccounts (an audit without OU paths would look complete).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from rootwatch.aws.clients import ClientFactory
from rootwatch.aws.errors import classify
from rootwatch.domain.alert import ACCOUNT_STATE_NOT_REPORTED
from rootwatch.domain.outcomes import Account  # re-exported: the adapter lists these

PAGE_SIZE = 20
#: The root's name in an OU path ("Root/Workloads/Prod"): what ListRoots answers, used if it answers none.
ROOT_NAME = "Root"
#: Threads listing parents at once (see docs/aws-behaviour.md#ou-walk).
WALK_WORKERS = 4
ACTIVE = "ACTIVE"
#: error_code of the SKIPPED record for the management account; other skips use the account state itself.
MANAGEMENT_ACCOUNT = "MANAGEMENT_ACCOUNT"

#: The account states that are not audited (AssumeRoot targets ACTIVE members only). Any other state,
#: or none at all, is audited.
SKIPPED_STATES = ("SUSPENDED", "PENDING_CLOSURE", "CLOSED", "PENDING_ACTIVATION")

SKIP_MESSAGES: dict[str, str] = {
    MANAGEMENT_ACCOUNT: "the management account's root user cannot be audited through AssumeRoot",
    "SUSPENDED": "the account is suspended",
    "PENDING_CLOSURE": "the account is being closed",
    "CLOSED": "the account is closed",
    "PENDING_ACTIVATION": "the account is not active yet",
}


@dataclass(frozen=True)
class SkippedAccount:
    """An account that is listed but not audited, and why (``reason`` is the record's error_code)."""

    account: Account
    reason: str

    @property
    def message(self) -> str:
        """A short human explanation (the record's error_message)."""
        return SKIP_MESSAGES.get(self.reason, f"the account state is {self.reason}")


@dataclass(frozen=True)
class MemberAccounts:
    """The organization's accounts split into those to audit and those skipped, each in listing order."""

    organization_id: str
    management_account_id: str
    to_audit: tuple[Account, ...]
    skipped: tuple[SkippedAccount, ...]

    @property
    def all_accounts(self) -> tuple[Account, ...]:
        """Every listed account (audited first, then skipped)."""
        return self.to_audit + tuple(s.account for s in self.skipped)

    def find(self, account_id: str) -> Account | None:
        """The listed account with this id, audited or skipped; None when it is not in the organization."""
        return next((a for a in self.all_accounts if a.id == account_id), None)


def list_member_accounts(source: ClientFactory | BaseClient, *, workers: int = WALK_WORKERS) -> MemberAccounts:
    """List the organization's accounts, each with its OU path: members to audit, and the management account
    and the members in a known non-active state SKIPPED with a reason.

    ``source`` is a ``ClientFactory`` or an ``organizations`` client. The org is walked from its root
    (``walk_organization``): DescribeOrganization once, ListRoots once, then for every parent (the root and
    each OU) ListOrganizationalUnitsForParent and ListAccountsForParent once per page of at most 20. AWS errors
    are raised as ``RootwatchError`` subclasses (``ThrottledError`` after botocore's retries,
    ``AccessDeniedError`` when the caller is not the management account or a delegated administrator, or
    lacks one of the four actions).
    """
    client = source.client("organizations") if isinstance(source, ClientFactory) else source
    try:
        organization = client.describe_organization()["Organization"]
        accounts = walk_organization(client, workers=workers)
    except ClientError as exc:
        raise classify(exc) from exc
    management_id = organization["MasterAccountId"]
    to_audit: list[Account] = []
    skipped: list[SkippedAccount] = []
    for account in accounts:
        reason = skip_reason(account, management_id)
        if reason is None:
            to_audit.append(account)
        else:
            skipped.append(SkippedAccount(account, reason))
    return MemberAccounts(organization["Id"], management_id, tuple(to_audit), tuple(skipped))


def walk_organization(client: BaseClient, *, workers: int = WALK_WORKERS) -> list[Account]:
    """Every account of the organization with its ``ou_path``, walking the OU tree breadth-first from the root.

    One level at a time, each parent's two listings (its child OUs, its accounts) run on up to ``workers``
    threads (botocore clients are thread-safe); the result does not depend on the threads: accounts come
    parent by parent in breadth-first order (the root, then its OUs in listing order, ...), each parent's in
    listing order. Raises ``ClientError`` as botocore does.
    """
    roots = list(_pages(client, "list_roots", "Roots"))
    level: list[tuple[str, str]] = [(root["Id"], root.get("Name") or ROOT_NAME) for root in roots]
    accounts: list[Account] = []
    seen_parents: set[str] = set()
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        while level:
            level = [(pid, path) for pid, path in level if pid not in seen_parents]
            seen_parents.update(pid for pid, _ in level)
            ous = [
                pool.submit(list, _pages(client, "list_organizational_units_for_parent", "OrganizationalUnits", pid))
                for pid, _ in level
            ]
            listed = [
                pool.submit(list, _pages(client, "list_accounts_for_parent", "Accounts", pid)) for pid, _ in level
            ]
            next_level: list[tuple[str, str]] = []
            for (_, path), children, members in zip(level, ous, listed, strict=True):
                accounts += [replace(account_from_listing(item), ou_path=path) for item in members.result()]
                next_level += [(ou["Id"], f"{path}/{ou.get('Name') or ou['Id']}") for ou in children.result()]
            level = next_level
    return accounts


def _pages(client: BaseClient, operation: str, key: str, parent_id: str | None = None) -> Iterator[dict[str, Any]]:
    """The items under ``key`` of every page of ``operation``: NextToken is followed until it is absent (an
    empty page is not the end), and a NextToken seen twice raises instead of looping for ever."""
    kwargs: dict[str, Any] = {"MaxResults": PAGE_SIZE}
    if parent_id is not None:
        kwargs["ParentId"] = parent_id
    seen_tokens: set[str] = set()
    call = getattr(client, operation)
    while True:
        page = call(**kwargs)
        yield from page.get(key, [])
        token = page.get("NextToken")
        if not token:
            return
        if token in seen_tokens:  # a service bug must not become an endless loop
            raise RuntimeError(f"Organizations {_api_name(operation)} returned the same NextToken twice")
        seen_tokens.add(token)
        kwargs["NextToken"] = token


def _api_name(operation: str) -> str:
    return "".join(part.capitalize() for part in operation.split("_"))


def skip_reason(account: Account, management_account_id: str) -> str | None:
    """Why ``account`` is not audited (MANAGEMENT_ACCOUNT or a known non-active state), or None to audit it:
    ACTIVE, and also a missing or unknown state (AssumeRoot tells; see the module docstring)."""
    if account.id == management_account_id:
        return MANAGEMENT_ACCOUNT
    if account.state in SKIPPED_STATES:
        return account.state
    return None


def account_from_listing(item: dict[str, Any]) -> Account:
    """An ``Account`` from one ListAccounts or ListAccountsForParent entry: ``State``, else the retired
    ``Status``, else NOT_REPORTED. Its ``ou_path`` is None: the walk sets it."""
    state = item.get("State") or item.get("Status") or ACCOUNT_STATE_NOT_REPORTED
    return Account(id=item["Id"], name=item.get("Name"), email=item.get("Email"), state=state)
