"""The named queries: ``rootwatch_cli/queries/<name>.sql``, one Trino (Athena) source run by both engines.

A query file starts with a comment header, then the SQL::

    -- description: Root credentials that reappeared in the last {{days}} days ...
    --   (continuation lines are indented)
    -- param days: integer = 30 (1..3650) how many days back, today (UTC) included
    -- param account_id: account_id (required) the 12-digit member account id
    SELECT ... FROM {{table}} WHERE dt >= date_format(date_add('day', 1 - {{days}}, current_date), '%Y-%m-%d')

Placeholders are ``{{name}}``:
- ``{{table}}`` is the results table. Athena gets the Glue table's name; DuckDB gets a view over
  ``read_json`` of the local results folder (see :mod:`rootwatch_cli.analytics.local`).
- every other placeholder must be declared by a ``param`` line: its type (``integer`` with an optional
  ``(min..max)`` range, ``date`` YYYY-MM-DD, ``account_id``, ``kind`` a credential kind) and either a
  default or ``(required)``. Values are validated and inlined as SQL literals, so a value can never
  change the statement's shape.

Ad-hoc SQL (``rootwatch query "SELECT ..."``) may use ``{{table}}`` too; with DuckDB the view is also
simply called ``results``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any

from rootwatch.domain.account_ids import is_account_id
from rootwatch.domain.exemptions import KINDS

TABLE_PLACEHOLDER = "table"
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_PARAM_LINE = re.compile(
    r"^param\s+(?P<name>[a-z_][a-z0-9_]*)\s*:\s*(?P<type>integer|date|account_id|kind)\s*"
    r"(?:=\s*(?P<default>\S+)|\((?P<required>required)\))\s*"
    r"(?:\((?P<min>-?\d+)\.\.(?P<max>-?\d+)\))?\s*(?P<help>.*)$"
)
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class QueryError(ValueError):
    """A query cannot run as asked (unknown name, bad parameter, SQL error). One line for the user."""


class UnknownQueryError(QueryError):
    """No named query has that name; the message lists the available ones."""


class ParameterError(QueryError):
    """A parameter is missing, unknown or has a bad value; the message names it."""


@dataclass(frozen=True)
class Param:
    """One declared query parameter."""

    name: str
    type: str
    default: str | None
    minimum: int | None = None
    maximum: int | None = None
    help: str = ""

    @property
    def required(self) -> bool:
        return self.default is None

    def literal(self, raw: str) -> str:
        """The validated value as a SQL literal; ParameterError naming the parameter otherwise."""
        value = raw.strip()
        if self.type == "integer":
            if not re.fullmatch(r"-?\d{1,9}", value):
                raise ParameterError(f"--param {self.name}: {raw!r} is not an integer")
            number = int(value)
            if self.minimum is not None and self.maximum is not None and not self.minimum <= number <= self.maximum:
                raise ParameterError(
                    f"--param {self.name}: {number} is out of range ({self.minimum} to {self.maximum})"
                )
            return str(number)
        if self.type == "date":
            try:
                if not _DATE.match(value):
                    raise ValueError
                date.fromisoformat(value)
            except ValueError:
                raise ParameterError(f"--param {self.name}: {raw!r} is not a date (YYYY-MM-DD)") from None
            return f"'{value}'"
        if self.type == "account_id":
            if not is_account_id(value):
                raise ParameterError(f"--param {self.name}: {raw!r} is not a 12-digit AWS account id")
            return f"'{value}'"
        if value not in KINDS:
            raise ParameterError(f"--param {self.name}: {raw!r} is not a credential kind ({', '.join(KINDS)})")
        return f"'{value}'"

    def describe(self) -> str:
        """One line for ``rootwatch query --list``."""
        bound = f" ({self.minimum}..{self.maximum})" if self.minimum is not None else ""
        default = "required" if self.required else f"default {self.default}"
        return f"{self.name}: {self.type}{bound}, {default}" + (f"; {self.help}" if self.help else "")


@dataclass(frozen=True)
class NamedQuery:
    """A query file: its name, description, parameters and SQL body (Trino dialect, placeholders intact)."""

    name: str
    description: str
    params: tuple[Param, ...]
    body: str

    @property
    def summary(self) -> str:
        """The description with placeholders shown as ``<days>``, for listings."""
        return _PLACEHOLDER.sub(lambda m: f"<{m.group(1)}>", self.description)

    def param(self, name: str) -> Param | None:
        """The declared parameter called ``name``, if any."""
        return next((p for p in self.params if p.name == name), None)


def parse_query(name: str, text: str) -> NamedQuery:
    """Parse a query file's header and body; QueryError naming the file if the header is malformed."""
    header: list[str] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines) and (lines[index].startswith("--") or not lines[index].strip()):
        header.append(lines[index])
        index += 1
    body = "\n".join(lines[index:]).strip()
    description_parts: list[str] = []
    params: list[Param] = []
    current: str | None = None
    for line in header:
        content = line[2:] if line.startswith("--") else ""
        stripped = content.strip()
        if stripped.startswith("description:"):
            current = "description"
            description_parts.append(stripped[len("description:") :].strip())
        elif stripped.startswith("param "):
            current = None
            match = _PARAM_LINE.match(stripped)
            if match is None:
                raise QueryError(f"queries/{name}.sql: cannot read the parameter line {stripped!r}")
            params.append(
                Param(
                    name=match["name"],
                    type=match["type"],
                    default=match["default"],
                    minimum=int(match["min"]) if match["min"] else None,
                    maximum=int(match["max"]) if match["max"] else None,
                    help=match["help"].strip(),
                )
            )
        elif current == "description" and content.startswith("   ") and stripped:
            description_parts.append(stripped)
        else:
            current = None
    if not description_parts:
        raise QueryError(f"queries/{name}.sql: the header needs a '-- description:' line")
    query = NamedQuery(name=name, description=" ".join(description_parts), params=tuple(params), body=body)
    for param in query.params:
        if param.default is not None:
            param.literal(param.default)  # a bad default is the file's bug: fail loudly and early
    used = set(_PLACEHOLDER.findall(body)) - {TABLE_PLACEHOLDER}
    undeclared = sorted(used - {p.name for p in query.params})
    if undeclared:
        raise QueryError(f"queries/{name}.sql: placeholder {{{{{undeclared[0]}}}}} has no '-- param' line")
    return query


def load_queries() -> dict[str, NamedQuery]:
    """Every named query shipped in ``rootwatch_cli/queries``, by name (sorted)."""
    folder = resources.files("rootwatch_cli") / "queries"
    found = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".sql"):
            name = entry.name[: -len(".sql")]
            found[name] = parse_query(name, entry.read_text(encoding="utf-8"))
    return found


def get_query(name: str) -> NamedQuery:
    """The named query, or UnknownQueryError listing the available names."""
    queries = load_queries()
    if name not in queries:
        raise UnknownQueryError(f"no query named {name!r}; available: {', '.join(queries)}")
    return queries[name]


def looks_like_sql(text: str) -> bool:
    """True for ad-hoc SQL (``SELECT ...``, ``WITH ...``), False for something that should be a query name."""
    return not _NAME.match(text.strip())


def parse_param_args(pairs: list[str] | None) -> dict[str, str]:
    """``["days=7", "account_id=1234..."]`` into a dict; ParameterError for a malformed pair or a repeat."""
    values: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not _NAME.match(name):
            raise ParameterError(f"--param {pair!r}: expected NAME=VALUE, e.g. --param days=7")
        if name in values:
            raise ParameterError(f"--param {name}: given twice")
        values[name] = value
    return values


def bind(query: NamedQuery, values: dict[str, str], *, table: str) -> str:
    """The query's SQL (Trino dialect) with ``{{table}}`` and its parameters filled in.

    ParameterError for an unknown parameter (listing the declared ones), a missing required one, or a
    bad value. ``table`` must be a plain (optionally dotted) identifier.
    """
    declared = {p.name: p for p in query.params}
    for name in values:
        if name not in declared:
            known = ", ".join(declared) or "none"
            raise ParameterError(f"--param {name}: query {query.name!r} has no such parameter (parameters: {known})")
    literals: dict[str, str] = {}
    for param in query.params:
        if param.name in values:
            literals[param.name] = param.literal(values[param.name])
        elif param.default is not None:
            literals[param.name] = param.literal(param.default)
        else:
            raise ParameterError(f"--param {param.name}: required by query {query.name!r} ({param.help or param.type})")
    return substitute(query.body, literals, table=table)


def substitute(sql: str, literals: dict[str, str], *, table: str) -> str:
    """Fill ``{{table}}`` and ``{{name}}`` placeholders; ParameterError for one without a value."""
    if not _IDENTIFIER.match(table):
        raise QueryError(f"table {table!r} is not a plain identifier (letters, digits, _; optionally db.table)")

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == TABLE_PLACEHOLDER:
            return table
        if name not in literals:
            raise ParameterError(f"{{{{{name}}}}}: no value; ad-hoc SQL may only use {{{{table}}}}")
        return literals[name]

    return _PLACEHOLDER.sub(fill, sql)


def named_query_sql(query: NamedQuery, *, table: str) -> str:
    """The SQL to save as an Athena named query: ``{{table}}`` is the Glue table, parameters at their defaults.

    Required parameters keep a readable marker (``'<account_id>'``) so the query opens in the console and
    the reader sees what to fill in. Used by the CDK stack (infra) to create the named queries.
    """
    literals: dict[str, Any] = {}
    for param in query.params:
        literals[param.name] = param.literal(param.default) if param.default is not None else f"'<{param.name}>'"
    description = substitute(query.description, literals, table=table)
    return f"-- {description}\n" + substitute(query.body, literals, table=table)
