"""The `rootwatch` command line (docs/contracts.md#command-line).

Each module in ``rootwatch_cli.commands`` adds its verbs through ``register(subparsers)`` and sets
``func`` on its parser; ``func(args)`` returns the exit code. Exit codes: 0 nothing found, 3 root
credentials or audit errors found, 2 bad usage or config (one clear line, no traceback), 1 anything
else. Set ROOTWATCH_DEBUG=1 to see the traceback of an unexpected error.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import pkgutil
import re
import sys
import traceback
from collections.abc import Sequence

from rootwatch import __version__

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_FINDINGS = 3
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """Bad usage or configuration: printed as one line, exit code 2."""


#: The parsers that parsed the current command line, outermost first (for suggesting a mistyped flag).
_PARSING: list[argparse.ArgumentParser] = []

_RST_LITERAL = re.compile(r"``(.+?)``", re.DOTALL)


def plain_help(text: str) -> str:
    """``text`` without reStructuredText literal markup: ``--results DIR`` reads --results DIR."""
    return _RST_LITERAL.sub(r"\1", text)


def did_you_mean(word: str, candidates: Sequence[str]) -> str:
    """``; did you mean 'scan'?`` when one of ``candidates`` is close to (or starts with) ``word``, else empty."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    if not close and len(word) >= 3:
        close = [candidate for candidate in candidates if candidate.startswith(word)][:1]
    return f"; did you mean {close[0]!r}?" if close else ""


class _Parser(argparse.ArgumentParser):
    """One-line usage errors (exit 2, no usage dump), plain-text help, suggestions for mistyped words."""

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[no-untyped-def, override]
        _PARSING.append(self)
        return super().parse_known_args(args, namespace)

    def format_help(self) -> str:
        return plain_help(super().format_help())

    def format_usage(self) -> str:
        return plain_help(super().format_usage())

    def error(self, message: str) -> None:  # type: ignore[override]
        invalid = re.match(r"argument (\S+): invalid choice: '([^']*)'", message)
        if invalid:
            choices = [
                str(choice)
                for action in self._actions
                if action.metavar == invalid.group(1) or action.dest == invalid.group(1)
                for choice in (action.choices or ())
            ]
            suggestion = did_you_mean(invalid.group(2), choices)
            if suggestion:
                message = message.split(" (choose from")[0] + suggestion
        unknown = re.match(r"unrecognized arguments: (\S+)", message)
        if unknown and unknown.group(1).startswith("-") and _PARSING:
            flag = unknown.group(1).split("=", 1)[0]
            message += did_you_mean(flag, list(_PARSING[-1]._option_string_actions))
        raise UsageError(f"{self.prog}: {message}")


#: AWS error codes that mean the caller's credentials or input are wrong, not that something broke (exit 2).
SETUP_AWS_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "MissingAuthenticationToken",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidArn",
        "AWSOrganizationsNotInUseException",
    }
)

NO_CREDENTIALS_TEXT = (
    "no AWS credentials found: give --profile, or set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "
    "(a sandbox takes AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing with --endpoint-url)"
)


def aws_setup_problem(exc: BaseException) -> str | None:
    """One line saying what to fix, when ``exc`` is a setup problem (credentials, endpoint, region, input).

    None for anything else. Every verb ends such a problem the same way: this line on stderr, exit 2.
    """
    from botocore import exceptions as bx

    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return NO_CREDENTIALS_TEXT
    if isinstance(exc, bx.EndpointConnectionError | bx.ConnectTimeoutError):
        url = getattr(exc, "kwargs", {}).get("endpoint_url", "the endpoint")
        return (
            f"cannot reach {url}: check --endpoint-url (or $AWS_ENDPOINT_URL) and --region; for a sandbox, "
            "is `rootwatch sandbox serve` running there?"
        )
    if isinstance(exc, bx.NoRegionError):
        return "no AWS region: give --region or set AWS_REGION"
    if isinstance(exc, bx.ParamValidationError):
        return f"invalid input for AWS: {' '.join(str(exc).split())}"
    if isinstance(exc, bx.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        if code in SETUP_AWS_CODES:
            operation = getattr(exc, "operation_name", "") or "AWS"
            return f"{operation}: {code}: {' '.join(str(error.get('Message', '')).split())}"
    return None


#: Third-party modules that come with an extra (pyproject.toml), by top-level name -> the extra.
EXTRA_FOR_MODULE = {"moto": "sandbox", "flask": "sandbox", "duckdb": "cli", "sqlglot": "cli", "rich": "cli"}


def missing_extra(exc: BaseException) -> str | None:
    """One line naming the extra to install, when ``exc`` is the import of an optional dependency failing."""
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return None
    extra = EXTRA_FOR_MODULE.get(exc.name.split(".")[0])
    if extra is None:
        return None
    return (
        f"this command needs {exc.name.split('.')[0]}, which comes with the {extra!r} extra: "
        f"pip install 'rootwatch[{extra}]' (make demo and make test install every extra)"
    )


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every command module's verbs registered."""
    parser = _Parser(
        prog="rootwatch", description="Audit the root users of every member account of an AWS Organization."
    )
    parser.add_argument("--version", action="version", version=f"rootwatch {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    from rootwatch_cli import commands

    for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{module_info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    from rootwatch_cli.common import add_verbosity_args

    for command in _commands(parser):
        add_verbosity_args(command)
    return parser


def _commands(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every parser under ``parser`` that runs a command (has ``func``), nested ones included."""
    found = [parser] if parser.get_default("func") is not None else []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                found += _commands(sub)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code; never lets a traceback reach the user."""
    try:
        parser = build_parser()
        _PARSING.clear()
        args = parser.parse_args(argv)
        func = getattr(args, "func", None)
        if func is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        from rootwatch_cli.common import apply_verbosity

        apply_verbosity(args)
        code = int(func(args) or 0)
        if argv is None and getattr(args, "abandon_threads", False):
            # The console script after Ctrl-C: leave now, without joining worker threads still in a retry wait.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        return code
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_UNEXPECTED
    except Exception as exc:
        problem = aws_setup_problem(exc) or missing_extra(exc)
        if problem is not None:
            print(f"error: {problem}", file=sys.stderr)
            return EXIT_USAGE
        if os.environ.get("ROOTWATCH_DEBUG"):
            traceback.print_exc()
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_UNEXPECTED
