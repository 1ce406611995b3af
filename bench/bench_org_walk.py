"""The OU walk against today's listing: Organizations calls and wall time for a 10,000-account, 200-OU org.

Old: DescribeOrganization + ListAccounts pages of 20 (no OU path). New: DescribeOrganization + ListRoots +
ListOrganizationalUnitsForParent and ListAccountsForParent for every parent (the root and each OU), pages of 20
(``rootwatch.aws.organizations.list_member_accounts``). ListParents once per account, the other way to get
the path, would add one call per account. The counts are measured in the in-process sandbox (which pages as
AWS does) and checked against the formula; wall times are the sandbox's on this machine, not AWS's (AWS
answers each call in ~50-150 ms and throttles: docs/aws-behaviour.md#ou-walk).

    python -m bench org_walk
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from typing import Any

from rootwatch.aws.clients import ClientFactory
from rootwatch.aws.organizations import PAGE_SIZE, list_member_accounts
from rootwatch_sandbox import Sandbox

ACCOUNTS = 10_000
TOP_OUS = 20
CHILD_OUS = 9  # 20 top-level OUs with 9 children each: 200 OUs
PAGE = PAGE_SIZE


def _counting_factory() -> tuple[ClientFactory, Counter[str]]:
    calls: Counter[str] = Counter()
    factory = ClientFactory(max_attempts=1)
    factory.register_event(
        "before-send.organizations", lambda event_name, **_: calls.update([event_name.split(".")[-1]])
    )
    return factory, calls


def build_org(sandbox: Any, accounts: int = ACCOUNTS) -> dict[str, int]:
    """A demo org of ``accounts`` members spread evenly over 200 OUs (two levels); the accounts per parent."""
    from moto.organizations.models import organizations_backends
    from rootwatch_sandbox.demo_org import MANAGEMENT_ACCOUNT_ID

    sandbox.create_demo_org(accounts=accounts, seed=7)
    backend = organizations_backends[MANAGEMENT_ACCOUNT_ID]["aws"]
    root = backend.org.root_id
    ous = [ou for ou in backend.ou if ou.parent_id is not None]  # the demo org's own 4
    for top in range(TOP_OUS - 2):  # Workloads and Sandbox are top-level already
        backend.create_organizational_unit(Name=f"bu-{top:02d}", ParentId=root)
    tops = [ou for ou in backend.ou if ou.parent_id == root]
    for parent in tops:
        have = sum(1 for ou in backend.ou if ou.parent_id == parent.id)
        for child in range(CHILD_OUS - have):
            backend.create_organizational_unit(Name=f"team-{child:02d}", ParentId=parent.id)
    ous = [ou for ou in backend.ou if ou.parent_id is not None]
    members = [a for a in backend.accounts if a.id != backend.org.master_account_id]
    random.Random(7).shuffle(members)
    for index, account in enumerate(members):
        account.parent_id = ous[index % len(ous)].id
    per_parent: Counter[str] = Counter(a.parent_id for a in backend.accounts)
    return {ou.id: per_parent.get(ou.id, 0) for ou in [*ous, *[o for o in backend.ou if o.parent_id is None]]}


def expected_calls(per_parent: dict[str, int], children: dict[str, int], accounts: int) -> tuple[int, int]:
    """(old, new) Organizations calls by formula: old 1 + ceil(N/20); new 2 + per parent
    max(1, ceil(child OUs/20)) + max(1, ceil(accounts/20))."""
    old = 1 + math.ceil(accounts / PAGE)
    new = 2 + sum(
        max(1, math.ceil(children.get(p, 0) / PAGE)) + max(1, math.ceil(n / PAGE)) for p, n in per_parent.items()
    )
    return old, new


def _old_listing(factory: ClientFactory) -> int:
    client = factory.client("organizations")
    client.describe_organization()
    listed, kwargs = 0, {"MaxResults": PAGE}
    while True:
        page = client.list_accounts(**kwargs)
        listed += len(page["Accounts"])
        if not page.get("NextToken"):
            return listed
        kwargs["NextToken"] = page["NextToken"]


def main() -> None:
    from moto.organizations.models import organizations_backends
    from rootwatch_sandbox.demo_org import MANAGEMENT_ACCOUNT_ID

    with Sandbox() as sandbox:
        started = time.perf_counter()
        per_parent = build_org(sandbox)
        backend = organizations_backends[MANAGEMENT_ACCOUNT_ID]["aws"]
        children = Counter(ou.parent_id for ou in backend.ou if ou.parent_id is not None)
        total = len(backend.accounts)
        print(f"org: {total:,} accounts (with the management account), {len(per_parent) - 1} OUs, "
              f"built in {time.perf_counter() - started:.1f} s")  # fmt: skip
        old_formula, new_formula = expected_calls(per_parent, children, total)
        factory, calls = _counting_factory()
        started = time.perf_counter()
        listed = _old_listing(factory)
        old_seconds = time.perf_counter() - started
        old_calls = dict(calls)
        print(f"old (DescribeOrganization + ListAccounts): {sum(old_calls.values())} calls {old_calls}, "
              f"{listed:,} accounts, {old_seconds:.1f} s; formula {old_formula}")  # fmt: skip
        for workers in (1, 4):
            factory, calls = _counting_factory()
            started = time.perf_counter()
            members = list_member_accounts(factory, workers=workers)
            seconds = time.perf_counter() - started
            assert all(a.ou_path for a in members.all_accounts)
            print(f"new (OU walk, {workers} thread{'s' if workers > 1 else ''}): {sum(calls.values())} calls "
                  f"{dict(sorted(calls.items()))}, {len(members.all_accounts):,} accounts, {seconds:.1f} s; "
                  f"formula {new_formula}")  # fmt: skip
        print(f"ListParents once per account instead: {old_formula + total:,} calls")
