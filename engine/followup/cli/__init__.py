"""The ``followup`` command: add applications, log what happened, see the agenda, run
the reminder daemon, dry-run and validate rule packs.

Exit codes (scripts may rely on them):
  0  success
  1  an unexpected failure (a bug: please report it)
  2  bad input: usage, a rule pack, a fact, an event, an unknown application
  3  the store failed or is busy (for example, the SQLite file is locked)
  4  a plugin or channel could not be loaded
  130 interrupted (Ctrl-C)

Heavy modules are imported inside the commands, so ``followup --help`` starts fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn, cast

from followup.cli._common import (
    EXIT_FAIL,
    EXIT_INPUT,
    EXIT_OK,
    EXIT_PLUGIN,
    EXIT_STORE,
    HumanOutput,
    Usage,
    ending,
    short_lived,
)

__all__ = ["command", "main"]

#: The modules whose ``register`` adds the commands, in the order of ``followup --help``.
_MODULES = ("apps", "corrections", "daemon", "serve", "packs", "files", "admin", "replan")

#: The module that adds each command, so that a command imports its own module and not
#: the others (test_cli_one_command checks this against what each module adds).
_MODULE_OF = {
    "init": "apps", "settings": "apps", "add": "apps", "log": "apps", "list": "apps",
    "show": "apps", "agenda": "apps",
    "edit": "corrections", "contact": "corrections", "archive": "corrections",
    "unarchive": "corrections", "delete": "corrections", "undo": "corrections",
    "snooze": "corrections",
    "run": "daemon", "outbox": "daemon",
    "serve": "serve",
    "simulate": "packs", "validate": "packs", "graph": "packs", "plugins": "packs",
    "export": "files", "import": "files",
    "migrate": "admin", "status": "admin",
    "replan": "replan",
}


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, with the terminal's width read as ``shutil`` reads it
    (``COLUMNS``, else the terminal of standard output, else 80) without importing
    ``shutil``: argparse makes a formatter for every option it adds, and ``shutil``
    brings the compression modules with it, a few milliseconds of every command."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position,
                         _columns() - 2 if width is None else width)


def _columns() -> int:
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    stdout = sys.__stdout__
    if stdout is None:
        return 80
    try:
        return os.get_terminal_size(stdout.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        return 80


def _common() -> argparse.ArgumentParser:
    # SUPPRESS lets these options stand before or after the subcommand.
    p = argparse.ArgumentParser(add_help=False, formatter_class=_Formatter)
    p.add_argument("--db", default=argparse.SUPPRESS, metavar="PATH|URL",
                   help="the store: a SQLite file path, sqlite:///PATH, "
                   "postgresql://USER@HOST/DATABASE or memory: (env FOLLOWUP_DB; default "
                   "~/.local/share/followup/followup.db)")
    p.add_argument("--rules", default=argparse.SUPPRESS, metavar="FILE",
                   help="a rule pack file or built-in pack name (env FOLLOWUP_RULES; "
                   "default: after-interview)")
    p.add_argument("--owner", default=argparse.SUPPRESS,
                   help="whose applications (env FOLLOWUP_OWNER; default: $USER)")
    p.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                   help="print JSON for programs instead of text")
    return p


class _Version(argparse.Action):
    """``--version``: the installed version is looked up only when asked for (reading
    the package metadata costs more than the rest of ``--help``)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        from followup.cli._common import version

        print(f"followup {version()}")
        parser.exit()


class _Unused:
    """What a command's ``register`` adds its options to when another command runs:
    every call does nothing and returns this, so building a parser for one command does
    not build the other 25."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: self


class _NoExit(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise ValueError(message)


def _command_named(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names, read with the global options alone; None when it
    names none (``--help``, ``--version``) or cannot be read that way."""
    pre = _NoExit(add_help=False, parents=[_common()], formatter_class=_Formatter)
    pre.add_argument("command", nargs="?")
    try:
        known, _rest = pre.parse_known_args(argv)
    except ValueError:
        return None
    named = known.command
    return named if isinstance(named, str) else None


def _parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or with ``only``, of that command alone (every
    other command is left out, as if not there); the full parser when ``only`` names no
    command."""
    common = _common()
    parser = argparse.ArgumentParser(
        prog="followup", parents=[common], formatter_class=_Formatter,
        description="Reminders for the days after a job interview, driven by rules in YAML.",
        epilog="Exit codes: 0 ok, 1 unexpected failure, 2 bad input, 3 store failed or "
        "busy, 4 plugin failed, 130 interrupted.",
    )
    parser.add_argument("--version", action=_Version, nargs=0,
                        help="show the program's version number and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    found: list[str] = []

    def cmd(name: str, help: str) -> argparse.ArgumentParser:
        if only is not None and name != only:
            return cast(argparse.ArgumentParser, _Unused())
        found.append(name)
        return sub.add_parser(name, help=help, description=help, parents=[common],
                              formatter_class=_Formatter)

    from importlib import import_module

    own = _MODULE_OF.get(only) if only is not None else None
    for name in (own,) if own is not None else _MODULES:
        import_module(f"followup.cli.{name}").register(cmd)
    if only is not None and not found:
        return _parser()
    from followup.cli.suggestions import suggesting

    return suggesting(parser)


def command() -> int:
    """The ``followup`` program (and ``python -m followup.cli``): ``main`` in a process
    that ends when it returns, with the garbage collector set for that (``short_lived``,
    ``ending``) and the compiled methods of its dataclasses read from the cache folder
    (``followup.cli._codecache``). An embedder that runs commands in its own process
    calls ``main``."""
    short_lived()
    try:
        return main(program=True)
    finally:
        ending()


def main(argv: Sequence[str] | None = None, *, program: bool = False) -> int:
    """Run the command line; returns the exit code. ``program``: this is the ``followup``
    program (``command``), whose process ends with the command: once the arguments name
    a command, the compiled methods of dataclasses come from the cache folder
    (``followup.cli._codecache``; not for ``--help``, which makes none)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    for place, arg in enumerate(argv, 1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:  # bytes that were not UTF-8, read as surrogates
            try:
                shown = repr(arg.encode("utf-8", "surrogateescape"))
            except UnicodeEncodeError:  # a lone surrogate given as such, not from bytes
                shown = ascii(arg)
            print(f"followup: argument {place} ({shown}) is not UTF-8 text: "
                  "followup reads its arguments as UTF-8; use a UTF-8 locale "
                  "(LANG=C.UTF-8) or convert the text (iconv -t UTF-8), and rename a file "
                  "whose name is not UTF-8", file=sys.stderr)
            return EXIT_INPUT
    parser = _parser(_command_named(argv))
    args = parser.parse_args(argv)
    args.argv = argv  # for commands that start copies of themselves (run --workers)
    if not args.command:
        parser.print_help()
        return EXIT_INPUT
    if not program:
        return _run(args)
    from followup.cli import _codecache

    _codecache.install()
    try:
        return _run(args)
    finally:
        _codecache.finish()


def _run(args: argparse.Namespace) -> int:
    """The command ``args`` name, its errors turned into messages and exit codes."""
    from followup.errors import FollowupError, InputError, PluginError, RulesError, StoreError

    human = HumanOutput(json=bool(getattr(args, "json", False)))
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        print("", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `followup agenda | head`): not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Usage as exc:
        print(f"followup {args.command}: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except RulesError as exc:
        for p in exc.problems:
            print(str(p), file=sys.stderr)
        return EXIT_INPUT
    except InputError as exc:
        print(f"followup {args.command}: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except StoreError as exc:
        print(f"followup {args.command}: {exc}", file=sys.stderr)
        return EXIT_STORE
    except PluginError as exc:
        print(f"followup {args.command}: {exc}", file=sys.stderr)
        return EXIT_PLUGIN
    except FollowupError as exc:
        print(f"followup {args.command}: {exc}", file=sys.stderr)
        return EXIT_FAIL
    finally:
        human.restore()
