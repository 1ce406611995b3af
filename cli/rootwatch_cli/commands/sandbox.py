"""`rootwatch sandbox serve` and `rootwatch sandbox deploy`: the local AWS emulator as a server, and the stack in it."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from types import FrameType
from typing import Any

from rootwatch_cli import EXIT_OK, EXIT_UNEXPECTED, UsageError

SANDBOX_REGION = "us-east-1"
# The same defaults as rootwatch_sandbox.server; not imported from there so that `rootwatch --help` loads no moto.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4566
LOCAL_HOSTS = ("127.0.0.1", "localhost", "0.0.0.0", "::", "::1")
SANDBOX_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": SANDBOX_REGION,
}


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `sandbox serve` and `sandbox deploy`."""
    sandbox = subparsers.add_parser("sandbox", help="the local AWS emulator (moto plus centralized root access)")
    verbs = sandbox.add_subparsers(dest="sandbox_command", metavar="VERB", parser_class=type(sandbox))
    sandbox.set_defaults(func=lambda args: _missing_verb(sandbox))

    serve = verbs.add_parser("serve", help="run the sandbox in the foreground and print the endpoint to use")
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks one)")
    serve.add_argument(
        "--demo-org",
        type=int,
        default=None,
        metavar="N",
        help="seed an organization with N member accounts in a mix of root credential states",
    )
    serve.add_argument(
        "--retry-scale",
        type=float,
        default=None,
        metavar="F",
        help="multiply Step Functions retry waits by F, e.g. 0.01 (default: $ROOTWATCH_SANDBOX_RETRY_SCALE, else 1)",
    )
    serve.add_argument("--log-requests", action="store_true", help="print a line per HTTP request")
    serve.add_argument(
        "--no-iam-enforcement",
        dest="iam_enforcement",
        action="store_false",
        default=None,
        help="let assumed-role callers do anything (default: their role's policies are enforced, "
        "unless ROOTWATCH_SANDBOX_IAM=off)",
    )
    serve.set_defaults(func=run_serve)

    deploy = verbs.add_parser(
        "deploy",
        help="deploy the stack `python app.py` synthesizes into a running sandbox; prints JSON",
        description="Synthesizes infra/ (or reads --assembly), uploads its assets and creates or updates every "
        "resource the sandbox emulates; the ones it does not are listed on stderr as `not emulated: ...`.",
    )
    deploy.add_argument(
        "--endpoint-url",
        default=os.environ.get("AWS_ENDPOINT_URL"),
        help="the sandbox's endpoint, e.g. http://127.0.0.1:4566 (default: $AWS_ENDPOINT_URL)",
    )
    deploy.add_argument(
        "--region", default=SANDBOX_REGION, help=f"the region to deploy into (default {SANDBOX_REGION})"
    )
    deploy.add_argument(
        "--assembly",
        default=None,
        metavar="DIR",
        help="deploy this cloud assembly (e.g. cdk.out from `make synth`) instead of synthesizing infra/",
    )
    deploy.add_argument(
        "-c",
        "--context",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="CDK context over cdk.json's, as `cdk deploy -c` (e.g. -c rootwatch:mapMaxConcurrency=8)",
    )
    deploy.set_defaults(func=run_deploy)


def _missing_verb(parser: argparse.ArgumentParser) -> int:
    raise UsageError(f"{parser.prog}: choose a verb: serve or deploy")


def _exports(endpoint_url: str) -> list[str]:
    return [f"export AWS_ENDPOINT_URL={endpoint_url}"] + [f"export {k}={v}" for k, v in SANDBOX_CREDENTIALS.items()]


def run_serve(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C (or SIGTERM); a port that cannot be used is a usage error (exit 2)."""
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port: {args.port} is not a TCP port (0-65535)")
    if args.demo_org is not None and args.demo_org < 1:
        raise UsageError(f"--demo-org: give a number of member accounts >= 1, got {args.demo_org}")
    if args.retry_scale is not None and args.retry_scale < 0:
        raise UsageError(f"--retry-scale: must be >= 0, got {args.retry_scale}")

    from rootwatch_sandbox import runtime
    from rootwatch_sandbox.server import SandboxServer, SandboxServerError

    if args.retry_scale is not None:
        runtime.set_retry_scale(args.retry_scale)
    server = SandboxServer(
        host=args.host, port=args.port, log_requests=args.log_requests, iam_enforcement=args.iam_enforcement
    )
    try:
        server.start()
    except SandboxServerError as exc:
        raise UsageError(f"--port: {exc}") from None
    stop = threading.Event()
    # Both signals stop cleanly, also when the parent started us with SIGINT ignored (a background job).
    previous = {signum: signal.signal(signum, _set_on_signal(stop)) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(f"rootwatch sandbox listening on {server.endpoint_url} (Ctrl-C stops it)")
        print("Point the AWS CLI, boto3 and rootwatch at it with:")
        for line in _exports(server.endpoint_url):
            print(f"  {line}")
        if args.host not in LOCAL_HOSTS:
            print(
                f"warning: Step Functions reaches Lambda at localhost:{server.endpoint_url.rsplit(':', 1)[1]}; "
                f"listen on 0.0.0.0 rather than {args.host} for state machines to run",
                file=sys.stderr,
            )
        sys.stdout.flush()
        if args.demo_org:
            result = server.seed("demo-org", {"accounts": args.demo_org})
            print(f"Seeded a demo org: {_describe_demo_org(result, args.demo_org)}", flush=True)
        while not stop.wait(timeout=0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        server.stop()
    print("rootwatch sandbox stopped", flush=True)
    return EXIT_OK


def _set_on_signal(event: threading.Event) -> Any:
    def handler(signum: int, frame: FrameType | None) -> None:
        event.set()

    return handler


def _describe_demo_org(result: dict[str, Any], requested: int) -> str:
    accounts = result.get("accounts")
    count = len(accounts) if isinstance(accounts, list) else requested
    organization = result.get("organization_id")
    return f"{count} member accounts" + (f" in {organization}" if organization else "")


def run_deploy(args: argparse.Namespace) -> int:
    """Create the stack in the sandbox at --endpoint-url and print its names and ARNs as JSON."""
    if not args.endpoint_url:
        raise UsageError(
            "--endpoint-url: give the sandbox's endpoint (or set AWS_ENDPOINT_URL), e.g. http://127.0.0.1:4566"
        )
    if not args.endpoint_url.startswith(("http://", "https://")):
        raise UsageError(f"--endpoint-url: {args.endpoint_url!r} is not an http(s) URL")
    context: dict[str, str] = {}
    for item in args.context:
        key, separator, value = item.partition("=")
        if not separator or not key:
            raise UsageError(f"--context: {item!r} is not KEY=VALUE")
        context[key] = value
    if args.assembly is not None and context:
        raise UsageError("--context: a cloud assembly is already synthesized; give --assembly or --context")
    from botocore.exceptions import EndpointConnectionError
    from rootwatch_sandbox.cloudformation import AssemblyError, DeployError
    from rootwatch_sandbox.deploy import deploy, summary

    # A shell without AWS credentials can still deploy into a sandbox: it gets the sandbox's test credentials.
    for name, value in SANDBOX_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    try:
        deployment = deploy(args.endpoint_url, context=context, assembly=args.assembly, region=args.region)
    except AssemblyError as exc:
        raise UsageError(f"--assembly: {exc}" if args.assembly else f"synth: {exc}") from None
    except DeployError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNEXPECTED
    except EndpointConnectionError:
        raise UsageError(
            f"--endpoint-url: nothing answers at {args.endpoint_url} (start one with `rootwatch sandbox serve`)"
        ) from None
    for kind, logical_id in deployment.not_emulated:
        print(f"not emulated: {kind} {logical_id}", file=sys.stderr)
    print(json.dumps(summary(deployment), indent=2, sort_keys=True, default=str))
    return EXIT_OK
