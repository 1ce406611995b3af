"""``rootwatch report``: one self-contained HTML page about the root credentials of every account.

It runs the named queries on the same sources as ``rootwatch query`` (``--results DIR``, ``--bucket B``
``[--endpoint-url URL]``, or ``--athena``) and writes a single file: totals, the current state of every
account (sortable), a 30-day trend per credential kind, reappearances, audit errors and exemptions.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from rootwatch.domain.exemptions import Exemption, ExemptionError, load_exemptions_file, parse_exemptions

from rootwatch_cli import EXIT_OK, UsageError
from rootwatch_cli.analytics.catalog import QueryError
from rootwatch_cli.commands.query import add_source_args, open_backend
from rootwatch_cli.common import add_threshold_args, policy_from_args

EXEMPTIONS_ENV = "ROOTWATCH_EXEMPTIONS"


def register(subparsers: Any) -> None:
    """Add the ``report`` verb."""
    parser = subparsers.add_parser(
        "report",
        help="write a self-contained HTML report of the results",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--output", default="report.html", metavar="FILE", help="where to write (default: report.html)")
    parser.add_argument("--days", type=int, default=30, help="days of trend and reappearances (default: 30)")
    parser.add_argument(
        "--exemptions",
        metavar="FILE",
        default=None,
        help=f"exemptions file (JSON list, the cdk.json shape) to list with their expiry (default: ${EXEMPTIONS_ENV})",
    )
    add_threshold_args(parser)
    add_source_args(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Collect, render and write the report; exit 0 (a report is not a check: use `query` for that)."""
    from rootwatch_cli.analytics.report import collect, render_html

    if not 1 <= args.days <= 366:
        raise UsageError(f"--days: {args.days} is out of range (1 to 366)")
    exemptions = _exemptions(args.exemptions)
    try:
        with open_backend(args) as backend:
            data = collect(
                backend,
                days=args.days,
                exemptions=exemptions,
                source=getattr(backend, "source", ""),
                policy=policy_from_args(args),
            )
    except QueryError as exc:
        raise UsageError(str(exc)) from None
    html = render_html(data)
    try:
        with open(args.output, "w", encoding="utf-8") as stream:
            stream.write(html)
    except OSError as exc:
        raise UsageError(f"--output {args.output}: {exc.strerror or exc}") from None
    t = data.totals
    print(
        f"wrote {args.output}: {t['accounts']} accounts, {t['with_root_credentials']} with root credentials "
        f"({t['needs_action']} need action, {t['exempt']} exempt), {t['failing']} failing audits",
        file=sys.stderr,
    )
    return EXIT_OK


def _exemptions(path: str | None) -> list[Exemption]:
    try:
        if path:
            return load_exemptions_file(path)
        return parse_exemptions(os.environ.get(EXEMPTIONS_ENV), allow_expired=True)
    except ExemptionError as exc:
        raise UsageError(f"--exemptions: {exc}") from None
