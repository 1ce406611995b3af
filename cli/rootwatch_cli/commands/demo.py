"""`rootwatch demo`: two nights of the audit pipeline, all in this process, with no AWS account.

It starts the in-process sandbox, seeds a demo organization (a realistic mix of root credential states,
one account behind an SCP that denies root actions), deploys into it the stack ``python app.py``
synthesizes (rootwatch_sandbox.cloudformation: the functions, their roles, THE state machine definition,
...), runs night 1, recovers a root password on a clean account (its CloudTrail event reaches the re-audit
through the optional event path, rootwatch:realtimeEnabled, and the alert goes out at once, with no nightly run),
changes credentials (a root password and access key appear on a clean account; a signing certificate is removed
elsewhere), runs night 2, and prints the alert exactly as subscribers
received it (the email text and the JSON), the stored state, and the answers to the standard queries
over the run objects in S3. Exit 0.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import time
from typing import Any

from rootwatch_cli import UsageError
from rootwatch_cli.output import stderr_is_terminal

DEMO_ACCOUNTS = 24
DEMO_SEED = 2026
#: CDK context over cdk.json's for the demo's stack: quiet functions (no EMF lines between the demo's output).
DEMO_CONTEXT = {"rootwatch:logLevel": "ERROR", "rootwatch:metricsEnabled": False, "rootwatch:mapMaxConcurrency": 16}
#: Standard queries shown at the end (rootwatch_cli.queries/<name>.sql), with their parameters.
STANDARD_QUERIES: tuple[tuple[str, str, list[str]], ...] = (
    ("Accounts with root credentials now", "with_root_credentials", []),
    ("Reappearances in the last 7 days", "reappearances", ["--param", "days=7"]),
    ("Audit errors in the last 7 days", "audit_errors", ["--param", "days=7"]),
)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``demo`` verb."""
    parser = subparsers.add_parser(
        "demo",
        help="two nights of the pipeline in a local sandbox: a credential reappears, the alert is shown",
        description="Runs the whole nightly pipeline twice in an in-process AWS sandbox (no AWS account needed) "
        "and prints the alert, the stored state and the standard queries' answers.",
    )
    parser.add_argument(
        "--accounts", type=int, default=DEMO_ACCOUNTS, help=f"member accounts (default {DEMO_ACCOUNTS})"
    )
    parser.add_argument("--seed", type=int, default=DEMO_SEED, help="seed of the demo organization's mix")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo; see the module docstring."""
    if not 10 <= args.accounts <= 2000:
        raise UsageError(f"--accounts: give 10 to 2000, got {args.accounts}")
    from rootwatch_sandbox import Sandbox, runtime

    started = time.perf_counter()
    out = _Out()
    runtime.set_retry_scale(0.0)  # the sandbox's Retry waits would be real sleeps
    try:
        with Sandbox() as sandbox:
            _demo(sandbox, args, out)
    finally:
        runtime.set_retry_scale(None)
    out.line(f"\nDemo finished in {time.perf_counter() - started:.1f} s. Deploy it for real: see docs/deploying.md.")
    return 0


class _Out:
    """Demo output on stdout; rich when it is available for tables."""

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 120)

    def line(self, text: str = "") -> None:
        self.console.print(text, markup=False)

    def heading(self, text: str) -> None:
        self.console.print(f"\n[bold]== {text} ==[/bold]")


def _demo(sandbox: Any, args: argparse.Namespace, out: _Out) -> None:
    import boto3
    from rootwatch.aws.status_store import StatusStore
    from rootwatch.domain.alert import render_subject, render_text
    from rootwatch_sandbox.deploy import deploy_stack

    from rootwatch_cli.commands.run import start_and_follow

    out.line("rootwatch demo: the nightly root-credential audit, twice, in a local AWS sandbox (no AWS account).")
    org = sandbox.create_demo_org(accounts=args.accounts, seed=args.seed)
    members = org["accounts"]
    active = [m for m in members if m["state"] == "ACTIVE"]
    # The story needs three accounts without root credentials: clean ones if the mix has them, else made clean.
    candidates = sorted(active, key=lambda m: m["profile"] != "clean")[:3]
    for member in candidates:
        if member["profile"] != "clean":
            sandbox.set_root_credentials(member["account_id"])
            member["profile"] = "clean"
    scp_denied, reappears, recovers = candidates
    certificate_holder = next((m for m in active if m["profile"] == "signing_certificate"), None)
    sandbox.add_fault(scp_denied["account_id"], "*", "AccessDenied")  # an SCP denying every root action
    out.line(
        f"1. Sandbox started. Demo organization {org['organization_id']}: {len(members)} member accounts "
        f"(+ the management account {org['management_account_id']}), RootCredentialsManagement enabled;"
    )
    out.line(f"   {_name(scp_denied)} sits behind an SCP that denies root actions.")

    root_id = boto3.client("organizations").list_roots()["Roots"][0]["Id"]
    stack = deploy_stack(context=DEMO_CONTEXT | _realtime_context(org["organization_id"], root_id))
    inbox = _subscribe_queue(stack["topic_arn"])
    out.line(
        f"2. Stack {stack['stack']} deployed from its synthesized template ({len(stack['functions'])} functions, "
        f"{len(stack['not_emulated'])} resources not emulated: {_services(stack['not_emulated'])}):\n"
        f"   table {stack['table']}, bucket {stack['bucket']},\n"
        f"   topic {stack['topic_arn']}, state machine {stack['state_machine_arn']}."
    )
    sfn = boto3.client("stepfunctions")
    night1 = _night(sfn, stack, "demo-night-1", out, start_and_follow, number=3)
    _drain(inbox)

    recovered_at = sandbox.clock.now()
    sandbox.set_root_credentials(recovers["account_id"], password=True, emit_event="PasswordRecoveryCompleted")
    alerts = _drain(inbox)
    out.line(
        f"4. At {recovered_at:%H:%M:%S} (sandbox time) the root password of {_name(recovers)} was recovered: its "
        "CloudTrail event went member rule -> central bus -> SQS -> re-audit Lambda."
    )
    for document in alerts:
        out.line(f"   Alert at {sandbox.clock.now():%H:%M:%S}, without waiting for night 2: {render_subject(document)}")
    if not alerts:
        out.line("   (the re-audit sent no alert)")

    sandbox.set_root_credentials(reappears["account_id"], password=True, access_keys=["Active"])
    out.line("5. Later, between the nights:")
    out.line(f"   - someone set a root password and created a root access key on {_name(reappears)};")
    if certificate_holder is not None:
        sandbox.set_root_credentials(certificate_holder["account_id"])
        out.line(f"   - the root signing certificate of {_name(certificate_holder)} was deleted.")
    night2 = _night(sfn, stack, "demo-night-2", out, start_and_follow, number=6)

    delivered = _drain(inbox)
    if delivered:
        document = delivered[-1]
        out.heading("The alert email of night 2 (SNS default/email text)")
        out.line(f"Subject: {render_subject(document)}\n")
        out.line(render_text(document))
        out.heading("The same alert as JSON (rootwatch.alert/v1, what SQS/Lambda/HTTPS subscribers get)")
        out.line(json.dumps(document, indent=2))
    else:
        out.line("(night 2 sent no alert)")

    store = StatusStore(boto3.client("dynamodb"), stack["table"])
    _state_table(store, out)
    _standard_queries(stack["bucket"], out)
    del night1, night2


def _realtime_context(organization_id: str, root_id: str) -> dict[str, Any]:
    """The optional event path (infra/realtime.py), its member rule on every account of the organization."""
    return {
        "rootwatch:realtimeEnabled": True,
        "rootwatch:organizationId": organization_id,
        "rootwatch:realtimeTargetOus": [root_id],
    }


def _name(member: dict[str, Any]) -> str:
    return f"{member['name']} ({member['account_id']})"


def _subscribe_queue(topic_arn: str) -> str:
    import boto3

    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="rootwatch-demo-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return queue_url


def _drain(queue_url: str) -> list[dict[str, Any]]:
    """The alert documents delivered to the queue so far (and remove them)."""
    import boto3

    sqs = boto3.client("sqs")
    documents: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return documents
        for message in messages:
            documents.append(json.loads(json.loads(message["Body"])["Message"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def _night(sfn: Any, stack: dict[str, Any], name: str, out: _Out, start_and_follow: Any, number: int) -> dict:
    started = time.perf_counter()
    described = start_and_follow(sfn, stack["state_machine_arn"], name=name, progress=stderr_is_terminal())
    summary = described.get("summary") or {}
    t = summary.get("totals", {})
    elapsed = time.perf_counter() - started
    out.line(
        f"{number}. Night {name[-1]} (execution {name}): {described['status']} in {elapsed:.1f} s. "
        f"{t.get('accounts', 0)} accounts: {t.get('audited', 0)} audited, {t.get('with_root_credentials', 0)} with "
        f"root credentials, {t.get('reappeared', 0)} reappeared, {t.get('errors', 0)} failed, {t.get('skipped', 0)} "
        "skipped."
    )
    out.line(f"   Results: s3://{stack['bucket']}/{summary.get('results_key')}")
    out.line(f"   Alert: {summary.get('alert_subject') or 'none (nothing needed a human)'}")
    return described


def _state_table(store: Any, out: _Out) -> None:
    from rich.table import Table
    from rich.text import Text
    from rootwatch.domain.plaintext import plain_text

    out.heading("Stored state (DynamoDB: the latest item per account)")
    table = Table(show_edge=False, pad_edge=False)
    for column in ("Account", "Name", "Last audit", "Root credentials (last OK audit)", "Last OK audit (run)"):
        table.add_column(column, no_wrap=column != "Root credentials (last OK audit)")
    for item in store.latest_states():
        status = item["last_status"] or "?"
        if item.get("last_error_code"):
            status += f" {item['last_error_code']}"
        kinds = ", ".join(item["known_kinds"]) if item["last_success_run_id"] else "(never audited)"
        table.add_row(
            item["account_id"],
            Text(plain_text(item.get("account_name") or "")),  # a name is data, not rich markup
            status,
            kinds or "none",
            item["last_success_run_id"] or "",
        )
    out.console.print(table)


def _standard_queries(bucket: str, out: _Out) -> None:
    """The standard queries over the run objects in S3, through `rootwatch query` (DuckDB locally)."""
    from rootwatch_cli import main

    out.heading("Standard queries (the same SQL Athena runs, here on DuckDB over the S3 results)")
    for title, name, params in STANDARD_QUERIES:
        out.line(f"\n-- {title} (rootwatch query {name} {' '.join(params)})".rstrip())
        captured_err = io.StringIO()
        with contextlib.redirect_stderr(captured_err):
            code = main(["query", name, *params, "--bucket", bucket, "--format", "table"])
        if code not in (0, 3):
            out.line(f"   (not available: {captured_err.getvalue().strip() or f'exit {code}'})")


def _services(not_emulated: list[str]) -> str:
    """``AWS::Scheduler::Schedule Nightly`` ... as the services they belong to: ``CloudWatch, Glue, Scheduler``."""
    return ", ".join(sorted({entry.split()[0].split("::")[1] for entry in not_emulated})) or "none"
