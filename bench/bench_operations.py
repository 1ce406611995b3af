"""Operations: API calls per account and wall time of a bulk root-credential deletion on the sandbox.

Prints, for `remediate delete-root-credentials`:
- the calls of the read-only plan for an account with every kind of credential and for a clean one;
- the calls of the deletion and of the re-audit;
- the wall time of --all-with-credentials --yes over an org of N member accounts (in-process sandbox).
"""

from __future__ import annotations

import contextlib
import io
import time
from collections import Counter
from typing import Any

import botocore.client
from rootwatch_cli import main as cli
from rootwatch_sandbox import Sandbox

ACCOUNTS = 100
EVERYTHING = {
    "password": True,
    "access_keys": ["Active", "Inactive"],
    "mfa_devices": ["virtual"],
    "signing_certificates": ["Active"],
}


class _Calls:
    def __init__(self) -> None:
        self.made: list[str] = []
        self._original = botocore.client.BaseClient._make_api_call

    def __enter__(self) -> _Calls:
        original, made = self._original, self.made

        def recording(client: Any, name: str, params: dict[str, Any]) -> Any:
            made.append(name)
            return original(client, name, params)

        botocore.client.BaseClient._make_api_call = recording  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        botocore.client.BaseClient._make_api_call = self._original  # type: ignore[method-assign]


def _run(*args: str) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return cli(list(args))


def main() -> None:
    with Sandbox() as sandbox:
        org = sandbox.create_demo_org(accounts=2, seed=1)
        full, clean = (a["account_id"] for a in org["accounts"])
        sandbox.set_root_credentials(full, **EVERYTHING)
        sandbox.set_root_credentials(clean)
        for label, account in (("5 credentials", full), ("clean", clean)):
            with _Calls() as calls:
                _run("remediate", "delete-root-credentials", "--accounts", account)
            root_calls = calls.made[calls.made.index("AssumeRoot") :]
            print(f"plan (dry run), {label}: {len(root_calls)} root calls {dict(Counter(root_calls))}")
        with _Calls() as calls:
            _run("remediate", "delete-root-credentials", "--accounts", full, "--yes", "--no-action-log")
        sessions = [i for i, name in enumerate(calls.made) if name == "AssumeRoot"]
        delete = calls.made[sessions[1] : sessions[2]]
        reaudit = calls.made[sessions[2] :]
        print(f"delete, 5 credentials: {len(delete)} calls {dict(Counter(delete))}")
        print(f"re-audit after delete: {len(reaudit)} calls {dict(Counter(reaudit))}")

    with Sandbox() as sandbox:
        org = sandbox.create_demo_org(accounts=ACCOUNTS, seed=2)
        for account in org["accounts"][::2]:
            sandbox.set_root_credentials(account["account_id"], **EVERYTHING)
        started = time.perf_counter()
        code = _run("remediate", "delete-root-credentials", "--all-with-credentials", "--yes", "--no-action-log")
        elapsed = time.perf_counter() - started
        print(
            f"--all-with-credentials --yes, {ACCOUNTS} members ({ACCOUNTS // 2}+ with credentials): "
            f"{elapsed:.2f} s wall, exit {code}"
        )
