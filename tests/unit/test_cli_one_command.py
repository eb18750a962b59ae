"""The command line builds the parser of the command it runs and no other
(followup.cli._parser(only=...)): each command's parser is the same as in the parser of
them all, and what cannot be read as one known command gets the parser of them all."""

from __future__ import annotations

import argparse
from typing import cast

import pytest

from followup.cli import _command_named, _parser


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("no subcommands")


ALL = _commands(_parser())


def test_every_command_is_there() -> None:
    assert {"add", "log", "show", "list", "agenda", "run", "simulate", "export"} <= set(ALL)
    assert len(ALL) > 20


@pytest.mark.parametrize("name", sorted(ALL))
def test_one_command_s_parser_is_the_same_as_in_the_whole(name: str) -> None:
    alone = _commands(_parser(name))
    assert list(alone) == [name]
    assert alone[name].format_help() == ALL[name].format_help()
    assert ([a.dest for a in alone[name]._actions] == [a.dest for a in ALL[name]._actions])


@pytest.mark.parametrize(("argv", "named"), [
    (["show", "app-1"], "show"),
    (["--owner", "list", "list"], "list"),  # an option's value that is a command's name
    (["--db=x.db", "--json", "agenda", "--days", "3"], "agenda"),
    (["--json"], None),
    ([], None),
    (["--help"], None),
    (["--version"], None),
    (["--db"], None),  # an option without its value: read by the whole parser, which says so
    (["lst"], "lst"),
])
def test_the_command_is_read_with_the_global_options_alone(
        argv: list[str], named: str | None) -> None:
    assert _command_named(argv) == named


def test_a_name_no_command_has_gets_the_whole_parser_and_its_suggestion(
        capsys: pytest.CaptureFixture[str]) -> None:
    parser = _parser("lst")
    assert set(_commands(parser)) == set(ALL)
    with pytest.raises(SystemExit):
        parser.parse_args(["lst"])
    assert "did you mean 'list'?" in capsys.readouterr().err


@pytest.mark.parametrize("columns", ["50", "120"])
def test_help_is_as_wide_as_argparse_would_make_it(columns: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """followup.cli._Formatter reads the width as shutil does, without importing it:
    the help of every command is the text argparse's own formatter gives."""
    monkeypatch.setenv("COLUMNS", columns)
    for name, parser in _commands(_parser()).items():
        ours = parser.format_help()
        parser.formatter_class = argparse.HelpFormatter  # which imports shutil for the width
        assert ours == parser.format_help(), name


def test_without_columns_or_a_terminal_the_width_is_80(monkeypatch: pytest.MonkeyPatch) -> None:
    from followup.cli import _columns

    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr("sys.__stdout__", None)  # no terminal to ask
    assert _columns() == 80
    monkeypatch.setenv("COLUMNS", "not a number")
    assert _columns() == 80
    monkeypatch.setenv("COLUMNS", "72")
    assert _columns() == 72


def test_each_command_is_added_by_the_module_named_for_it() -> None:
    """A command imports only the module ``_MODULE_OF`` names for it: each module adds
    exactly the commands named for it, and every command is named."""
    from importlib import import_module

    from followup.cli import _MODULE_OF, _MODULES, _Unused

    added: dict[str, str] = {}
    for module in _MODULES:
        def cmd(name: str, help: str, module: str = module) -> argparse.ArgumentParser:
            added[name] = module
            return cast(argparse.ArgumentParser, _Unused())

        import_module(f"followup.cli.{module}").register(cmd)
    assert added == _MODULE_OF
    assert set(added) == set(ALL)
