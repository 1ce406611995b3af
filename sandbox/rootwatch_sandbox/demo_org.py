"""A demo organization: N member accounts in a seeded, realistic mix of root credential states.

It works on moto's Organizations backend directly (the same state ``create_organization`` and
``create_account`` build) so that 10,000 accounts take seconds, not minutes: the accounts are real
moto accounts that ListAccounts and DescribeAccount return. One shortcut, for speed: member
accounts get no ``OrganizationAccountAccessRole`` IAM role (moto's create_account makes one).

Accounts sit in OUs as a real org's do (``DEMO_OUS``): Workloads/Prod for the prod stage, Workloads/NonProd
for the others, Sandbox for the sandbox team, so the OU walk has paths to show.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from moto.organizations import utils as org_utils
from moto.organizations.models import FakeAccount, OrganizationsBackend, organizations_backends

from rootwatch_sandbox import orgview
from rootwatch_sandbox.builders import apply_account_state, build_root_user, describe_root_user
from rootwatch_sandbox.rootstate import ORGANIZATION_FEATURES, STATE

MANAGEMENT_ACCOUNT_ID = orgview.MANAGEMENT_ACCOUNT_ID
REGION = "us-east-1"

#: Credential profiles: name -> (weight, password, access keys, MFA devices, signing certificates, state).
PROFILES: dict[str, tuple[float, bool, list[str], list[str], list[str], str]] = {
    "clean": (0.72, False, [], [], [], "ACTIVE"),
    "password_only": (0.08, True, [], [], [], "ACTIVE"),
    "password_and_mfa": (0.05, True, [], ["virtual"], [], "ACTIVE"),
    "inactive_key_only": (0.04, False, ["Inactive"], [], [], "ACTIVE"),
    "mfa_only": (0.03, False, [], ["virtual"], [], "ACTIVE"),
    "hardware_mfa_and_password": (0.02, True, [], ["hardware"], [], "ACTIVE"),
    "signing_certificate": (0.02, False, [], [], ["Active"], "ACTIVE"),
    "everything": (0.02, True, ["Active", "Inactive"], ["virtual"], ["Active"], "ACTIVE"),
    "suspended": (0.01, False, [], [], [], "SUSPENDED"),
    "closed": (0.01, False, [], [], [], "CLOSED"),
}
_TEAMS = ("payments", "identity", "search", "data", "ml", "web", "mobile", "billing", "ops", "security", "sandbox")
_STAGES = ("prod", "staging", "dev", "test")
#: The demo org's OU tree: each path under the root, parents first.
DEMO_OUS = ("Workloads", "Workloads/Prod", "Workloads/NonProd", "Sandbox")


def ou_for(team: str, stage: str) -> str:
    """The OU path (under the root) a demo account named ``team-stage-nnnnn`` sits in."""
    if team == "sandbox":
        return "Sandbox"
    return "Workloads/Prod" if stage == "prod" else "Workloads/NonProd"


def ensure_ous(backend: OrganizationsBackend, paths: tuple[str, ...] = DEMO_OUS) -> dict[str, str]:
    """The OU id of each path (parents listed first), created under the root where missing."""
    org = backend.org
    assert org is not None
    ids = {"": org.root_id}
    for path in paths:
        parent_path, _, name = path.rpartition("/")
        parent = ids[parent_path]
        existing = next((ou for ou in backend.ou if ou.parent_id == parent and ou.name == name), None)
        ids[path] = existing.id if existing else backend.create_organizational_unit(Name=name, ParentId=parent)[
            "OrganizationalUnit"]["Id"]  # fmt: skip
    return ids


def _profiles_for(count: int, rng: random.Random) -> list[str]:
    """One profile per account: every profile at least once from 10 accounts on, the rest by weight, shuffled."""
    names = list(PROFILES)
    chosen = [name for name in names if name != "clean"] if count >= 10 else []
    weights = [PROFILES[name][0] for name in names]
    chosen += rng.choices(names, weights=weights, k=count - len(chosen))
    rng.shuffle(chosen)
    return chosen


def ensure_organization(backend: OrganizationsBackend) -> None:
    """The org (all features), trusted access for IAM and both root-access features, as an admin would set them up."""
    if backend.org is None:
        backend.create_organization(region=REGION, FeatureSet="ALL")
    if not orgview.trusted_access_enabled(backend):
        backend.enable_aws_service_access(ServicePrincipal=orgview.IAM_SERVICE_PRINCIPAL)
    for feature in ORGANIZATION_FEATURES:
        STATE.set_feature(backend.org.id, feature, True)  # type: ignore[union-attr]


def _new_account(backend: OrganizationsBackend, account_id: str, name: str, email: str, joined: dt.datetime) -> Any:
    """A FakeAccount as moto's create_account builds it, without the IAM role (see the module docstring)."""
    org = backend.org
    assert org is not None
    account: Any = FakeAccount.__new__(FakeAccount)
    account.type = "ACCOUNT"
    account.region = org.region
    account.organization_id = org.id
    account.master_account_id = org.master_account_id
    account.create_account_status_id = org_utils.make_random_create_account_status_id()
    account.id = account_id
    account.name = name
    account.email = email
    account.create_time = joined
    account.status = "ACTIVE"
    account.state = "ACTIVE"
    account.joined_method = "CREATED"
    account.parent_id = org.root_id
    account.attached_policies = []
    account.tags = {}
    for policy in backend.policies:
        if policy.id in (org_utils.DEFAULT_SCP_POLICY_ID, org_utils.DEFAULT_RCP_POLICY_ID):
            account.attached_policies.append(policy)
            policy.attachments.append(account)
    return account


def create(count: int, rng: random.Random) -> dict[str, Any]:
    """Create the demo org's ``count`` member accounts (adding to an existing org) and answer with them."""
    backend = organizations_backends[MANAGEMENT_ACCOUNT_ID]["aws"]
    ensure_organization(backend)
    org = backend.org
    assert org is not None
    taken = {account.id for account in backend.accounts}
    now = STATE.clock.now()
    start = now.replace(tzinfo=None) - dt.timedelta(days=3 * 365)
    answered = []
    with STATE.lock:
        ou_ids = ensure_ous(backend)
        for index, profile in enumerate(_profiles_for(count, rng)):
            account_id = f"{rng.randrange(10**11, 10**12):012d}"
            while account_id in taken:
                account_id = f"{rng.randrange(10**11, 10**12):012d}"
            taken.add(account_id)
            team, stage = rng.choice(_TEAMS), rng.choice(_STAGES)
            name = f"{team}-{stage}-{len(backend.accounts):05d}"
            joined = start + dt.timedelta(seconds=index * 60 + rng.randrange(60))
            account = _new_account(backend, account_id, name, f"aws+{name}@example.com", joined)
            account.parent_id = ou_ids[ou_for(team, stage)]
            backend.accounts.append(account)
            organizations_backends.master_accounts[account_id] = (MANAGEMENT_ACCOUNT_ID, "aws")
            _, password, keys, mfa, certificates, state = PROFILES[profile]
            if state != "ACTIVE":
                apply_account_state(account, state)
            created = joined.replace(tzinfo=dt.UTC, microsecond=0) - dt.timedelta(seconds=1)
            user = build_root_user(
                account_id,
                create_date=created,
                now=now,
                password=password,
                access_keys=keys,
                mfa_devices=mfa,
                signing_certificates=certificates,
                password_last_used=now - dt.timedelta(days=rng.randrange(1, 400)) if password else None,
            )
            STATE.replace_root_user(user)
            answered.append(
                {
                    "account_id": account_id,
                    "name": name,
                    "email": account.email,
                    "state": account.state,
                    "ou_path": f"Root/{ou_for(team, stage)}",
                    "profile": profile,
                    "credentials": describe_root_user(user),
                }
            )
    return {
        "organization_id": org.id,
        "management_account_id": org.master_account_id,
        "features": sorted(STATE.enabled_features(org.id)),
        "accounts": answered,
    }
