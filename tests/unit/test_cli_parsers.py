"""Every command's parser: plain-text help, suggestions for mistyped words (issue 14 #10)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest
from rootwatch_cli import EXIT_USAGE, build_parser, main


def _all_parsers(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield " ".join(path) or "rootwatch", parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _all_parsers(sub, (*path, name))


def _commands() -> list[tuple[str, argparse.ArgumentParser]]:
    """Every command that runs something (has ``func``), nested ones too (``remediate delete-root-credentials``)."""
    return [(name, parser) for name, parser in _all_parsers(build_parser()) if parser.get_default("func") is not None]


def test_every_parser_is_found() -> None:
    names = {name for name, _ in _commands()}
    assert {"scan", "query", "report", "remediate delete-root-credentials", "sandbox serve"} <= names


@pytest.mark.parametrize("name", [name for name, _ in _all_parsers(build_parser())])
def test_help_is_plain_text(name: str) -> None:
    parser = dict(_all_parsers(build_parser()))[name]
    assert "``" not in parser.format_help()
    assert "``" not in parser.format_usage()


def test_query_help_reads_the_flags_plainly(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["query", "--help"])
    out = capsys.readouterr().out
    assert "- --results DIR: a local folder" in out
    assert "``" not in out


@pytest.mark.parametrize(
    ("argv", "suggestion"),
    [
        (["scna"], "did you mean 'scan'?"),
        (["reprot"], "did you mean 'report'?"),
        (["remediate", "delet"], "did you mean 'delete-root-credentials'?"),
        (["scan", "--formt", "json"], "did you mean '--format'?"),
        (["query", "--lst"], "did you mean '--list'?"),
    ],
)
def test_mistyped_word_suggests_the_closest(
    argv: list[str], suggestion: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == EXIT_USAGE
    err = capsys.readouterr().err
    assert suggestion in err
    assert err.count("\n") == 1


def test_unknown_command_without_a_close_match_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["xyzzy"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "did you mean" not in err and "choose from" in err and "'scan'" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("name", [name for name, _ in _commands()])
def test_every_command_takes_quiet_and_verbose(name: str) -> None:
    parser = dict(_commands())[name]
    flags = {option for action in parser._actions for option in action.option_strings}
    assert {"--quiet", "--verbose"} <= flags
    help_text = parser.format_help()
    assert "only results and errors" in help_text and "debug logging of rootwatch" in help_text


def test_quiet_and_verbose_together_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--quiet", "--verbose"]) == EXIT_USAGE
    assert "not allowed with argument" in capsys.readouterr().err
