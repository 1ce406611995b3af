"""The audit engine's budgets: API calls per account, and `rootwatch scan` against a naive per-account loop.

(a) Requests actually sent (counted by a botocore ``before-send`` hook, retries included) to audit a clean
    account (budget: exactly 2) and an account with every kind of root credential. In-process sandbox.
(b) One sandbox server with a 1,000-account demo org, run in a *separate process* so that concurrency is
    real and this process's CPU time is the client's alone. On it, in the same run:
    - ``rootwatch scan`` (one botocore session, reused root clients, a thread pool);
    - the naive loop of a published script: ListAccounts, then per account, one at a time, AssumeRoot and a new
      ``boto3.Session(...).client("iam")`` for GetAccountSummary.
    Both audit the same ACTIVE member accounts (the naive loop is given the same skip rules, and makes no
    detail calls, so it does strictly less work). Figures: wall clock, client CPU (time.process_time) and
    server CPU (/proc) per account. Budget: scan >= 5x faster wall clock, with less CPU per account.

    python -m bench scan
    ROOTWATCH_BENCH_ACCOUNTS=200 python -m bench scan     # a smaller org
    ROOTWATCH_BENCH_CONCURRENCY=32 python -m bench scan
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

ACCOUNTS = int(os.environ.get("ROOTWATCH_BENCH_ACCOUNTS", "1000"))
CONCURRENCY = int(os.environ.get("ROOTWATCH_BENCH_CONCURRENCY", "16"))
SEED = 7
AUDIT_POLICY_ARN = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}

_SERVER_SCRIPT = """
import json, sys
from rootwatch_sandbox.server import SandboxServer
server = SandboxServer(port=0).start()
org = server.seed("demo-org", {"accounts": int(sys.argv[1]), "seed": int(sys.argv[2])})
print(json.dumps({"url": server.endpoint_url, "management": org["management_account_id"]}), flush=True)
sys.stdin.read()
server.stop()
"""


# --- (a) calls per account ---------------------------------------------------------------------------


def calls_per_account() -> None:
    """Requests sent to audit a clean account and an account with everything (in-process sandbox)."""
    import boto3
    from rootwatch.aws.clients import ClientFactory
    from rootwatch.aws.root_audit import audit_root_credentials
    from rootwatch_sandbox import Sandbox

    with _environ(FAKE_CREDENTIALS, drop=("AWS_ENDPOINT_URL",)), Sandbox() as sandbox:
        org = boto3.client("organizations", region_name="us-east-1")
        org.create_organization(FeatureSet="ALL")
        clean, loaded = (
            org.create_account(AccountName=f"m{i}", Email=f"m{i}@example.com")["CreateAccountStatus"]["AccountId"]
            for i in range(2)
        )
        org.enable_aws_service_access(ServicePrincipal="iam.amazonaws.com")
        boto3.client("iam", region_name="us-east-1").enable_organizations_root_credentials_management()
        sandbox.set_root_credentials(
            loaded, password=True, access_keys=["Active", "Inactive"], mfa_devices=["virtual"],
            signing_certificates=["Active"],
        )  # fmt: skip
        factory = ClientFactory()
        sent: Counter[str] = Counter()
        factory.register_event("before-send", lambda event_name, **_: sent.update([event_name.split(".")[-1]]))
        for label, account_id in (("clean account", clean), ("account with everything", loaded)):
            sent.clear()
            audit_root_credentials(factory, account_id)
            detail = ", ".join(f"{op} {n}" for op, n in sent.items())
            budget = "  (budget 2: ok)" if label == "clean account" and sum(sent.values()) == 2 else ""
            print(f"API calls, {label}: {sum(sent.values())}{budget}  [{detail}]")
        model_loads(sandbox)


def model_loads(sandbox, audits: int = 50) -> None:
    """Service-model files read and clients built for ``audits`` audits: ClientFactory vs a Session per account."""
    import boto3
    import botocore.client
    import botocore.loaders
    from rootwatch.aws.clients import ClientFactory
    from rootwatch.aws.root_audit import audit_root_credentials

    org = boto3.client("organizations", region_name="us-east-1")
    members = [
        org.create_account(AccountName=f"n{i}", Email=f"n{i}@example.com")["CreateAccountStatus"]["AccountId"]
        for i in range(audits)
    ]
    counts: Counter[str] = Counter()
    load_file, create_client = botocore.loaders.JSONFileLoader.load_file, botocore.client.ClientCreator.create_client

    def counting_load_file(self, file_path, *args, **kwargs):
        counts["model files read"] += 1
        return load_file(self, file_path, *args, **kwargs)

    def counting_create_client(self, *args, **kwargs):
        counts["clients built"] += 1
        return create_client(self, *args, **kwargs)

    botocore.loaders.JSONFileLoader.load_file = counting_load_file  # type: ignore[method-assign]
    botocore.client.ClientCreator.create_client = counting_create_client  # type: ignore[method-assign]
    try:
        started = time.process_time()
        factory = ClientFactory()
        for account_id in members:
            audit_root_credentials(factory, account_id)
        ours, ours_cpu = dict(counts), time.process_time() - started
        counts.clear()
        started = time.process_time()
        sts = boto3.Session(region_name="us-east-1").client("sts", endpoint_url="https://sts.us-east-1.amazonaws.com")
        for account_id in members:
            creds = sts.assume_root(TargetPrincipal=account_id, TaskPolicyArn={"arn": AUDIT_POLICY_ARN})["Credentials"]
            boto3.Session(
                aws_access_key_id=creds["AccessKeyId"],
                aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"],
                region_name="us-east-1",
            ).client("iam").get_account_summary()
        naive, naive_cpu = dict(counts), time.process_time() - started
    finally:
        botocore.loaders.JSONFileLoader.load_file = load_file  # type: ignore[method-assign]
        botocore.client.ClientCreator.create_client = create_client  # type: ignore[method-assign]
    print(
        f"{audits} audits, in-process sandbox: ClientFactory read {ours.get('model files read', 0)} model files and "
        f"built {ours.get('clients built', 0)} clients ({ours_cpu / audits * 1000:.1f} ms CPU/account); "
        f"a new Session per account read {naive.get('model files read', 0)} and built "
        f"{naive.get('clients built', 0)} ({naive_cpu / audits * 1000:.1f} ms CPU/account)"
    )


# --- (b) scan vs the naive loop ----------------------------------------------------------------------


@dataclass
class Measure:
    name: str
    accounts: int
    wall: float
    cpu: float
    server_cpu: float

    def row(self) -> str:
        per = 1000 / max(self.accounts, 1)
        return (
            f"{self.name:<34} {self.accounts:>8} {self.wall:>8.2f} {self.wall * per:>10.2f} "
            f"{self.cpu * per:>12.2f} {self.server_cpu * per:>12.2f}"
        )


def naive_loop(url: str, management_id: str) -> int:
    """That script, pointed at the sandbox: a new Session and IAM client per account, one at a time."""
    import boto3

    session = boto3.Session(region_name="us-east-1")
    org = session.client("organizations", endpoint_url=url)
    sts = session.client("sts", region_name="us-east-1", endpoint_url=url)

    def list_accounts(token: str | None = None) -> list[dict]:
        response = org.list_accounts(NextToken=token) if token else org.list_accounts()
        accounts = response["Accounts"]
        if "NextToken" in response:
            accounts.extend(list_accounts(response["NextToken"]))
        return accounts

    audited = 0
    for account in list_accounts():
        if account["Id"] == management_id or account.get("State", account.get("Status")) != "ACTIVE":
            continue  # the same accounts scan audits (the script skipped only the management account)
        creds = sts.assume_root(
            TargetPrincipal=account["Id"], TaskPolicyArn={"arn": AUDIT_POLICY_ARN}, DurationSeconds=123
        )["Credentials"]
        iam = boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name="us-east-1",
        ).client("iam", endpoint_url=url)
        iam.get_account_summary()
        audited += 1
    return audited


def run_scan(url: str, concurrency: int) -> tuple[int, str]:
    """`rootwatch scan` in this process; (accounts audited, its summary line)."""
    from rootwatch_cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["scan", "--endpoint-url", url, "--format", "jsonl", "--output", os.devnull,
                     "--concurrency", str(concurrency)])  # fmt: skip
    summary = err.getvalue().strip().splitlines()[-1] if err.getvalue().strip() else ""
    if code not in (0, 3):
        raise RuntimeError(f"rootwatch scan exited {code}: {err.getvalue().strip()}")
    audited = int(summary.split(": ", 1)[1].split(" audited")[0]) if " audited" in summary else 0
    return audited, summary


def measure(name: str, server_pid: int, work) -> Measure:
    server_before = _process_cpu(server_pid)
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    accounts = work()
    wall, cpu = time.perf_counter() - wall_before, time.process_time() - cpu_before
    return Measure(name, accounts, wall, cpu, _process_cpu(server_pid) - server_before)


def scan_vs_naive() -> None:
    """Wall clock and CPU of `rootwatch scan` and the naive loop on one 1,000-account sandbox server."""
    with (
        _environ(FAKE_CREDENTIALS, drop=("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS")),
        _server(ACCOUNTS) as (url, pid, management),
    ):
        run_scan(url, CONCURRENCY)  # warm-up: the server's first requests import and build things
        summaries: list[str] = []

        def scan_once() -> int:
            audited, line = run_scan(url, CONCURRENCY)
            summaries.append(line)
            return audited

        scan = measure(f"rootwatch scan (concurrency {CONCURRENCY})", pid, scan_once)
        summary = summaries[0]
        naive = measure("naive boto3 loop (sequential)", pid, lambda: naive_loop(url, management))
        print(f"\nsandbox server in a separate process at {url}; demo org of {ACCOUNTS} member accounts (seed {SEED})")
        print(f"scan: {summary}")
        print(
            f"\n{'approach':<34} {'accounts':>8} {'wall s':>8} {'ms/account':>10} {'client CPU':>12} {'server CPU':>12}"
        )
        print(f"{'':<34} {'':>8} {'':>8} {'':>10} {'ms/account':>12} {'ms/account':>12}")
        print(scan.row())
        print(naive.row())
        speedup = (naive.wall / naive.accounts) / (scan.wall / scan.accounts)
        cpu_ratio = (naive.cpu / naive.accounts) / (scan.cpu / scan.accounts)
        total_ratio = ((naive.cpu + naive.server_cpu) / naive.accounts) / ((scan.cpu + scan.server_cpu) / scan.accounts)
        verdict = "ok" if speedup >= 5 else "MISSED"
        print(f"\nwall clock per account: scan is {speedup:.1f}x faster (budget >= 5x: {verdict})")
        print(f"client CPU per account: scan uses {cpu_ratio:.1f}x less ({'ok' if cpu_ratio > 1 else 'MISSED'}); "
              f"client + server CPU: {total_ratio:.1f}x less")  # fmt: skip
        print("(scan also makes the detail calls for the ~28% of accounts with credentials; the naive loop does not)")


def main() -> None:
    """Print both benchmarks."""
    calls_per_account()
    scan_vs_naive()


# --- plumbing ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def _server(accounts: int) -> Iterator[tuple[str, int, str]]:
    env = {**os.environ, **FAKE_CREDENTIALS}
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVER_SCRIPT, str(accounts), str(SEED)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("the sandbox server process did not start")
        ready = json.loads(line)
        yield ready["url"], process.pid, ready["management"]
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of another process (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def _environ(values: dict[str, str], drop: tuple[str, ...] = ()) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in (*values, *drop)}
    os.environ.update(values)
    for key in drop:
        os.environ.pop(key, None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


if __name__ == "__main__":
    main()
