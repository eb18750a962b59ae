"""The documentation never rots: its examples run and its references keep step with the code.

- Every ```python block in README.md and docs/*.md runs, each in a fresh namespace, as a
  script would (``__name__ == "__main__"``), in an empty working directory. A fragment
  that cannot run alone is marked with ``<!-- skip -->`` on the line right before its
  fence; it must still compile. A block marked ``<!-- include: PATH -->`` must equal that
  file (relative to docs/), which runs as a script of its own.
- Every ```yaml block in docs/*.md that starts with ``version: 1`` is a complete rule
  pack and loads. One marked ``<!-- invalid -->`` must be refused with ``RulesError``; a
  ```text block right after it shows exactly the problems reported.
- docs/rules.md documents every key of the schema, and nothing else, in its reference
  sections: a level-2 heading followed by ``<!-- schema: POINTER ... -->`` names the
  schema objects the section documents, and each of its keys has a heading that is the
  key alone in code: ``### `key` `` (or ``#### `key` ``).
- docs/cli.md has a section ``### `followup COMMAND` `` for every command, naming each of
  its options; its dry-run examples print what ``followup simulate`` prints; its
  environment variables and exit codes are the code's.
- docs/plugins.md shows every hook in ``followup.delivery.hookspecs`` with its exact signature, and
  docs/embedding.md names every public method of ``Engine``.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from followup import RulesError, load_rules
from followup.cli import _parser, main
from followup.delivery import hookspecs
from followup.language.loader import schema

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

pytestmark = pytest.mark.skipif(
    not DOCS.is_dir(),
    reason=f"no docs/ beside the tests ({DOCS}): only the installed package is here",
)

_FENCE = re.compile(r"^(?P<fence>`{3,})(?P<lang>[\w+-]*)\s*$")
_MARKER = re.compile(r"^<!--\s*(?P<text>.*?)\s*-->$")
_BLOCK_MARKERS = ("skip", "invalid")
_INCLUDE = "include:"
# The environment a reader starts from: no followup settings of their own.
_OUR_ENV = re.compile(r"^(FOLLOWUP_[A-Z_]+)$")


@dataclass(frozen=True)
class Block:
    """A fenced code block of a Markdown file."""

    file: Path
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    marker: str  # the HTML comment on the line right before the fence, or ""

    def __str__(self) -> str:
        return f"{self.file.relative_to(ROOT)}:{self.line}"


def _blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        fence = opening["fence"]
        end = i + 1
        while end < len(lines) and lines[end].strip() != fence:
            end += 1
        if end == len(lines):
            raise AssertionError(f"{path}:{i + 1}: the code block is never closed")
        before = _MARKER.match(lines[i - 1].strip()) if i else None
        body = "\n".join(lines[i + 1 : end])
        out.append(Block(path, i + 1, opening["lang"], body + "\n" if body else "",
                         before["text"] if before else ""))
        i = end + 1
    return out


def _doc_files() -> list[Path]:
    return sorted(DOCS.glob("*.md")) if DOCS.is_dir() else []


def _all_blocks(files: list[Path]) -> list[Block]:
    return [b for f in files for b in _blocks(f)]


def _python_blocks() -> list[Block]:
    readme = [ROOT / "README.md"] if (ROOT / "README.md").is_file() else []
    return [b for b in _all_blocks(readme + _doc_files()) if b.lang == "python"]


def _is_pack(block: Block) -> bool:
    for line in block.text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            return line.strip() == "version: 1"
    return False


def _pack_blocks() -> list[Block]:
    return [b for b in _all_blocks(_doc_files())
            if b.lang == "yaml" and (_is_pack(b) or b.marker == "invalid")]


def _next_block(block: Block) -> Block | None:
    later = [b for b in _blocks(block.file) if b.line > block.line]
    return later[0] if later else None


@pytest.fixture
def reader_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty working directory and no FOLLOWUP_* settings, as a new reader has."""
    for name in list(os.environ):
        if _OUR_ENV.match(name):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- (a) the Python examples run -----------------------------------------------------------


@pytest.mark.parametrize("block", _python_blocks(), ids=str)
def test_python_example_runs(block: Block, reader_env: Path) -> None:
    assert block.marker in ("", "skip") or block.marker.startswith(_INCLUDE), (
        f"{block}: unknown marker <!-- {block.marker} --> before a python block"
    )
    if block.marker.startswith(_INCLUDE):
        included = DOCS / block.marker[len(_INCLUDE) :].strip()
        assert block.text == included.read_text(encoding="utf-8"), (
            f"{block}: the block differs from {included.relative_to(ROOT)}: copy the file in again"
        )
        return  # the file itself runs as a script: test_example_scripts_run
    # Padding keeps the doc's line numbers in tracebacks.
    code = compile("\n" * block.line + block.text, str(block.file), "exec")
    if block.marker == "skip":
        return
    exec(code, {"__name__": "__main__"})


def _example_scripts() -> list[Path]:
    return sorted((DOCS / "examples").glob("*.py")) if DOCS.is_dir() else []


def _shown_output(script: Path) -> list[tuple[Block, str]]:
    """Console blocks in the docs that show the output of ``python docs/examples/X.py``."""
    command = f"$ python {script.relative_to(ROOT).as_posix()}"
    shown = []
    for block in _all_blocks(_doc_files()):
        first, _, rest = block.text.partition("\n")
        if block.lang == "console" and first.strip() == command:
            shown.append((block, rest))
    return shown


@pytest.mark.parametrize("script", _example_scripts(), ids=lambda p: p.name)
def test_example_scripts_run(script: Path, reader_env: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not _OUR_ENV.match(k)}
    result = subprocess.run(
        [sys.executable, str(script)], cwd=reader_env, env=env,
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, f"{script} failed:\n{result.stdout}\n{result.stderr}"
    for block, output in _shown_output(script):
        assert _lines(output) == _lines(result.stdout), (
            f"{block}: the output shown is not what {script.name} prints:\n{result.stdout}"
        )


def test_the_embedding_guide_includes_its_example() -> None:
    markers = {b.marker for b in _blocks(DOCS / "embedding.md")}
    assert f"{_INCLUDE} examples/embed.py" in markers


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip("\n").splitlines()]


# -- (b) the rule packs load -----------------------------------------------------------------


@pytest.mark.parametrize("block", _pack_blocks(), ids=str)
def test_rule_pack_example_loads(block: Block, reader_env: Path) -> None:
    assert block.marker in ("", *_BLOCK_MARKERS), f"{block}: unknown marker <!-- {block.marker} -->"
    # A relative path, so problems name "my-rules.yaml" as the docs show them, and
    # `extends` of a built-in pack or a file beside it works.
    path = "my-rules.yaml"
    if block.marker != "invalid":
        assert _is_pack(block), f"{block}: a rule pack example starts with 'version: 1'"
        load_rules(path, text=block.text)
        return
    with pytest.raises(RulesError) as refused:
        load_rules(path, text=block.text)
    shown = _next_block(block)
    if shown is not None and shown.lang == "text":
        assert _lines(shown.text) == [str(p) for p in refused.value.problems], (
            f"{shown}: the problems shown are not the ones reported:\n{refused.value}"
        )


def test_there_are_rule_pack_examples() -> None:
    blocks = [b for b in _pack_blocks() if b.file.name == "rules.md"]
    assert sum(b.marker == "invalid" for b in blocks) >= 1
    assert sum(b.marker == "" for b in blocks) >= 5


# -- (c) the reference matches the schema ----------------------------------------------------

_KEY_HEADING = re.compile(r"^#{3,4} `(?P<key>[^`]+)`\s*$")


@dataclass
class Section:
    title: str
    line: int
    pointers: list[str]
    keys: list[str]


def _sections(path: Path) -> tuple[list[Section], list[tuple[int, str]]]:
    """The reference sections, and key headings found outside any of them."""
    lines = path.read_text(encoding="utf-8").splitlines()
    sections: list[Section] = []
    stray: list[tuple[int, str]] = []
    current: Section | None = None
    in_code = False
    for number, line in enumerate(lines, start=1):
        if _FENCE.match(line) or (in_code and line.strip().startswith("```")):
            in_code = not in_code
            continue
        if in_code:
            continue
        if line.startswith("## "):
            current = None
            following = next((n for n in lines[number:] if n.strip()), "")
            marker = _MARKER.match(following.strip())
            if marker and marker["text"].startswith("schema:"):
                pointers = marker["text"][len("schema:") :].split()
                current = Section(line[3:].strip(), number, pointers, [])
                sections.append(current)
            continue
        heading = _KEY_HEADING.match(line)
        if heading:
            if current is None:
                stray.append((number, heading["key"]))
            else:
                current.keys.append(heading["key"])
    return sections, stray


def _resolve(pointer: str) -> dict[str, Any]:
    node: Any = schema()
    assert pointer.startswith("#"), pointer
    for part in [p for p in pointer[1:].split("/") if p]:
        assert isinstance(node, dict) and part in node, f"no {pointer!r} in the schema"
        node = node[part]
    assert isinstance(node, dict) and "properties" in node, f"{pointer!r} has no properties"
    return node


def _schema_objects() -> dict[str, set[str]]:
    """Every object in the schema that has properties, by JSON pointer."""
    objects = {"#": set(schema()["properties"])}
    for name, definition in schema()["$defs"].items():
        if "properties" in definition:
            objects[f"#/$defs/{name}"] = set(definition["properties"])
    return objects


def test_every_schema_key_is_in_the_rules_reference() -> None:
    text = (DOCS / "rules.md").read_text(encoding="utf-8")
    missing = sorted({key for keys in _schema_objects().values() for key in keys
                      if f"`{key}`" not in text})
    assert not missing, f"docs/rules.md never mentions these schema keys: {missing}"


def test_the_reference_documents_exactly_the_schema() -> None:
    sections, stray = _sections(DOCS / "rules.md")
    assert sections, "docs/rules.md has no reference sections (## ... then <!-- schema: ... -->)"
    assert not stray, (
        f"docs/rules.md documents keys outside the reference sections (line, key): {stray}"
    )
    covered: set[str] = set()
    for section in sections:
        expected: set[str] = set()
        for pointer in section.pointers:
            expected |= set(_resolve(pointer)["properties"])
            covered.add(pointer)
        documented = set(section.keys)
        where = f"docs/rules.md:{section.line} ({section.title})"
        assert documented >= expected, f"{where}: undocumented keys {sorted(expected - documented)}"
        assert documented <= expected, (
            f"{where}: keys that are not in the schema {sorted(documented - expected)}"
        )
        duplicates = sorted({k for k in section.keys if section.keys.count(k) > 1})
        assert not duplicates, f"{where}: keys documented twice {duplicates}"
    uncovered = sorted(set(_schema_objects()) - covered)
    assert not uncovered, f"docs/rules.md has no reference section for {uncovered}"


# -- (d) the command line and the hooks --------------------------------------------------------


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = _parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("followup's parser has no subcommands")


def _cli_sections() -> dict[str, str]:
    """The text of each ``### `followup COMMAND` `` section of docs/cli.md."""
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    parts = re.split(r"^(#{2,3} .*)$", text, flags=re.MULTILINE)
    sections: dict[str, str] = {}
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        found = re.fullmatch(r"### `followup (?P<command>[a-z-]+)`\s*", heading)
        if found:
            sections[found["command"]] = body
    return sections


def _common_options() -> set[str]:
    return {opt for action in _parser()._actions for opt in action.option_strings}


def test_every_command_has_a_section_in_the_cli_guide() -> None:
    commands = set(_subcommands())
    documented = set(_cli_sections())
    assert not commands - documented, (
        f"docs/cli.md has no '### `followup COMMAND`' section for {sorted(commands - documented)}"
    )
    assert not documented - commands, f"docs/cli.md documents no such command: {sorted(documented - commands)}"


@pytest.mark.parametrize("command", sorted(_subcommands()))
def test_every_option_of_a_command_is_documented(command: str) -> None:
    section = _cli_sections().get(command, "")
    common = _common_options()
    missing = []
    for action in _subcommands()[command]._actions:
        if action.option_strings:
            if set(action.option_strings) <= common:
                continue
            names = action.option_strings
        else:
            names = [str(action.metavar or action.dest).upper()]
        if not any(re.search(f"`{re.escape(n)}[ `=]", section) for n in names):
            missing.append("/".join(names))
    assert not missing, f"docs/cli.md, `followup {command}`: options not mentioned: {missing}"


def test_the_common_options_are_documented() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    missing = sorted(o for o in _common_options() if o.startswith("--") and o not in text)
    assert not missing, f"docs/cli.md does not mention {missing}"


def test_every_environment_variable_is_documented() -> None:
    import followup

    source = "".join(p.read_text(encoding="utf-8")
                     for p in Path(followup.__file__).parent.rglob("*.py"))
    used = set(re.findall(r"\bFOLLOWUP_[A-Z_]*[A-Z]\b", source))
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert used, "no FOLLOWUP_* variables found in the package"
    assert not {v for v in used if f"`{v}`" not in text}, (
        f"docs/cli.md does not document {sorted(v for v in used if f'`{v}`' not in text)}"
    )


def test_the_exit_codes_are_the_code_s() -> None:
    import followup.cli

    codes = re.findall(r"^\s+(\d+)\s+\S", followup.cli.__doc__ or "", flags=re.MULTILINE)
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert codes
    missing = [c for c in codes if not re.search(rf"^\| {c} \|", text, flags=re.MULTILINE)]
    assert not missing, f"docs/cli.md's table of exit codes lacks {missing}"


def _simulate_examples() -> list[tuple[Block, list[str], str]]:
    """Examples of ``followup simulate`` with the output they show."""
    readme = [ROOT / "README.md"] if (ROOT / "README.md").is_file() else []
    out = []
    for block in _all_blocks(readme + _doc_files()):
        if block.lang != "console" or not block.text.startswith("$ followup simulate"):
            continue
        lines = block.text.splitlines()
        command = []
        while lines:
            line = lines.pop(0).removeprefix("$ ")
            command.append(line.removesuffix("\\"))
            if not line.endswith("\\"):
                break
        output = "\n".join(lines)
        if not output.strip():
            shown = _next_block(block)
            assert shown is not None, f"{block}: no output shown"
            output = shown.text
        out.append((block, shlex.split(" ".join(command))[1:], output))
    return out


@pytest.mark.parametrize("example", _simulate_examples(), ids=lambda e: str(e[0]))
def test_simulate_examples_show_what_it_prints(
    example: tuple[Block, list[str], str], reader_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    block, argv, shown = example
    assert main(argv) == 0
    printed = capsys.readouterr().out
    if "--json" in argv:
        assert json.loads(shown) == json.loads(printed), f"{block}: the JSON shown is stale"
    else:
        assert _lines(shown) == _lines(printed), f"{block}: the timeline shown is stale:\n{printed}"


def test_the_dry_run_contract_is_documented() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    for field in ("at", "due", "rule", "action", "state", "contact", "event", "subject", "detail"):
        assert f"| `{field}` |" in text, f"docs/cli.md: the dry-run field {field!r} is not described"
    for action in ("start", "event", "notify", "transition", "cancel"):
        assert f"- `{action}`:" in text, f"docs/cli.md: the action {action!r} is not described"


class _Raw(str):
    """An annotation shown as written (hookspecs' annotations are strings)."""

    def __repr__(self) -> str:
        return str(self)


def _hooks() -> list[Any]:
    return [getattr(hookspecs, name) for name in sorted(dir(hookspecs))
            if name.startswith("followup_") and callable(getattr(hookspecs, name))]


def _signature(hook: Any) -> str:
    sig = inspect.signature(hook)

    def raw(annotation: Any) -> Any:
        return _Raw(annotation) if isinstance(annotation, str) else annotation

    params = [p.replace(annotation=raw(p.annotation)) for p in sig.parameters.values()]
    sig = sig.replace(parameters=params, return_annotation=raw(sig.return_annotation))
    return f"{hook.__name__}{sig}"


def test_there_are_hooks() -> None:
    assert _hooks(), "followup.delivery.hookspecs defines no followup_* hooks"


@pytest.mark.parametrize("hook", _hooks(), ids=lambda h: h.__name__)
def test_every_hook_is_documented_with_its_signature(hook: Any) -> None:
    lines = (DOCS / "plugins.md").read_text(encoding="utf-8").splitlines()
    signature = _signature(hook)
    assert signature in (line.strip() for line in lines), (
        f"docs/plugins.md does not show the hook on a line of its own as: {signature}"
    )


@pytest.mark.parametrize("hook", _hooks(), ids=lambda h: h.__name__)
def test_every_hook_has_a_test_of_its_own(hook: Any) -> None:
    tests = [p for p in (ROOT / "tests").rglob("test_*.py") if p.name != "test_docs.py"]
    assert any(f"def {hook.__name__}(" in p.read_text(encoding="utf-8") for p in tests), (
        f"no test implements the hook {hook.__name__}: add one beside tests/unit/test_plugins.py"
    )


def test_the_plugin_guide_names_only_real_hooks() -> None:
    text = (DOCS / "plugins.md").read_text(encoding="utf-8")
    named = set(re.findall(r"\b(followup_[a-z_]+)\(", text))
    real = {h.__name__ for h in _hooks()}
    assert named <= real, f"docs/plugins.md names hooks that do not exist: {sorted(named - real)}"


def test_the_plugin_guide_covers_delivery_and_loading() -> None:
    text = (DOCS / "plugins.md").read_text(encoding="utf-8")
    for needed in ("from followup import hookimpl", "[project.entry-points.followup]",
                   "FOLLOWUP_PLUGINS", "FOLLOWUP_PLUGINS_BLOCK", "followup plugins",
                   "notification.key"):
        assert needed in text, f"docs/plugins.md does not mention {needed!r}"


def test_the_embedding_guide_covers_the_engine_api() -> None:
    from followup import Engine

    text = (DOCS / "embedding.md").read_text(encoding="utf-8")
    public = [name for name, _ in inspect.getmembers(Engine, inspect.isfunction)
              if not name.startswith("_")]
    missing = [name for name in public if not re.search(rf"`(engine\.)?{name}\(", text)]
    assert not missing, f"docs/embedding.md does not show Engine methods {missing}"
