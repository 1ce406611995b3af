"""Which member accounts to audit: Organizations ListAccounts and DescribeOrganization.

AWS behaviours this module is built around (docs/aws-behaviour.md#organizations-listing-the-accounts):

- ``MaxResults`` is at most 20, and a page can be **empty while NextToken says more remain**: we follow
  NextToken until it is absent, never stopping on an empty page.
- Account ``State`` (PENDING_ACTIVATION, ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED) replaced ``Status``,
  which was retired on 2026-09-09: read ``State``, fall back to ``Status`` only when ``State`` is missing.
- Only the known non-active states are skipped. An account whose state is missing (a botocore older than
  1.40.27 drops ``State``) or unknown is **audited anyway**: AssumeRoot gives the real answer, and a
  wrongly skipped account would go unaudited silently. Its record's ``account_state`` is
  ``NOT_REPORTED`` (or the unknown state), which the alert names.
- The management account is listed like any member; AssumeRoot cannot target it, so it is skipped.
- ``TooManyRequestsException`` (8 ListAccounts/s, 1 DescribeOrganization/s) is retried by botocore first,
  then surfaces as ``ThrottledError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from rootwatch.aws.clients import ClientFactory
from rootwatch.aws.errors import classify
from rootwatch.domain.alert import ACCOUNT_STATE_NOT_REPORTED
from rootwatch.domain.outcomes import Account  # re-exported: the adapter lists these

PAGE_SIZE = 20
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


def list_member_accounts(source: ClientFactory | BaseClient) -> MemberAccounts:
    """List the organization's accounts: members to audit, and the management account and the members in a
    known non-active state SKIPPED with a reason.

    ``source`` is a ``ClientFactory`` or an ``organizations`` client. Two kinds of call are made:
    DescribeOrganization once, ListAccounts once per page of at most 20. AWS errors are raised as
    ``RootwatchError`` subclasses (``ThrottledError`` after botocore's retries, ``AccessDeniedError``
    when the caller is not the management account or a delegated administrator).
    """
    client = source.client("organizations") if isinstance(source, ClientFactory) else source
    try:
        organization = client.describe_organization()["Organization"]
        accounts = list(_list_accounts(client))
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


def skip_reason(account: Account, management_account_id: str) -> str | None:
    """Why ``account`` is not audited (MANAGEMENT_ACCOUNT or a known non-active state), or None to audit it:
    ACTIVE, and also a missing or unknown state (AssumeRoot tells; see the module docstring)."""
    if account.id == management_account_id:
        return MANAGEMENT_ACCOUNT
    if account.state in SKIPPED_STATES:
        return account.state
    return None


def account_from_listing(item: dict[str, Any]) -> Account:
    """An ``Account`` from one ListAccounts entry: ``State``, else the retired ``Status``, else NOT_REPORTED."""
    state = item.get("State") or item.get("Status") or ACCOUNT_STATE_NOT_REPORTED
    return Account(id=item["Id"], name=item.get("Name"), email=item.get("Email"), state=state)


def _list_accounts(client: BaseClient) -> Iterator[Account]:
    kwargs: dict[str, Any] = {"MaxResults": PAGE_SIZE}
    seen_tokens: set[str] = set()
    while True:
        page = client.list_accounts(**kwargs)
        for item in page.get("Accounts", []):
            yield account_from_listing(item)
        token = page.get("NextToken")
        if not token:
            return
        if token in seen_tokens:  # a service bug must not become an endless loop
            raise RuntimeError("Organizations ListAccounts returned the same NextToken twice")
        seen_tokens.add(token)
        kwargs["NextToken"] = token
