"""The public surface is the documented surface.

- Every name the docs (README.md, docs/*.md, examples/*/README.md) tell a reader to import
  or to use by its dotted path (``from followup import X``, ``followup.testing``,
  ``followup.Channel``, in code blocks and prose alike) exists where they say, and comes
  from ``followup`` itself or from a subpackage the docs name public (``PUBLIC``), never
  from an internal module.
- Every callable the docs show as a signature in prose (an inline code span such as
  ``Engine(*, rules=None, ...)`` or ``deliveries(*, owner=None, status=None)``) has exactly
  the parameters ``inspect.signature`` gives: names, kinds and defaults. A span that names
  fewer parameters and no ``*`` is a call, and must be a valid one.
- Every name in ``followup.__all__`` is mentioned somewhere in the docs.
- The retry schedule's numbers, stated once in docs/plugins.md, are the code's, and the
  other guides link to it instead of repeating them.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import followup
import followup.testing
from followup.delivery.dispatcher import BACKOFF_BASE, BACKOFF_CAP, MAX_ATTEMPTS, backoff

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

pytestmark = pytest.mark.skipif(
    not DOCS.is_dir(), reason=f"no docs/ beside the tests ({DOCS}): only the package is here"
)

# The subpackages docs/embedding.md ("What is public") names public besides `followup`.
PUBLIC = ("followup.testing", "followup.plugins", "followup.rules")
# `followup.db`, `followup.ics`: file names, not modules.
_FILE_SUFFIXES = {"db", "ics", "json", "yaml", "yml", "txt", "csv", "vcf", "toml", "lock",
                  "log", "sqlite", "svg", "md"}
_FENCE = re.compile(r"^(`{3,})([\w+-]*)\s*$")
_DOTTED = re.compile(r"(?<![\w./-])followup(?:\.[A-Za-z_]\w*)+")
_FROM_IMPORT = re.compile(r"\bfrom\s+(followup(?:\.\w+)*)\s+import\s+([\w ,]+)")


def _doc_files() -> list[Path]:
    files = [ROOT / "README.md", *sorted(DOCS.glob("*.md")),
             *sorted(ROOT.glob("examples/*/README.md"))]
    return [f for f in files if f.is_file()]


@dataclass(frozen=True)
class Text:
    """A piece of a doc: the prose between code blocks, or one code block."""

    file: Path
    line: int
    lang: str  # "" for prose
    text: str

    def where(self, offset: int = 0) -> str:
        return f"{self.file.relative_to(ROOT)}:{self.line + self.text.count(chr(10), 0, offset)}"


def _pieces(path: Path) -> Iterator[Text]:
    lines = path.read_text(encoding="utf-8").splitlines()
    prose: list[str] = []
    start = 1
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            prose.append(lines[i])
            i += 1
            continue
        yield Text(path, start, "", "\n".join(prose))
        end = i + 1
        while end < len(lines) and lines[end].strip() != opening[1]:
            end += 1
        yield Text(path, i + 2, opening[2] or "text", "\n".join(lines[i + 1 : end]))
        prose, start, i = [], end + 2, end + 1
    yield Text(path, start, "", "\n".join(prose))


def _pieces_of_all() -> list[Text]:
    return [p for f in _doc_files() for p in _pieces(f)]


# -- names the docs import -----------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    where: str
    module: str  # what the doc imports from, or the dotted path as written
    names: tuple[str, ...]  # imported names; () for a dotted path


def _references() -> list[Reference]:
    refs: list[Reference] = []
    for piece in _pieces_of_all():
        if piece.lang == "python":
            try:
                tree = ast.parse(piece.text)
            except SyntaxError as exc:  # pragma: no cover - test_docs compiles them too
                raise AssertionError(f"{piece.where()}: {exc}") from exc
            for node in ast.walk(tree):
                where = f"{piece.file.relative_to(ROOT)}:{piece.line + getattr(node, 'lineno', 1) - 1}"
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("followup"):
                    refs.append(Reference(where, str(node.module),
                                          tuple(a.name for a in node.names)))
                elif isinstance(node, ast.Import):
                    refs += [Reference(where, a.name, ()) for a in node.names
                             if a.name.split(".")[0] == "followup"]
                elif isinstance(node, ast.Attribute) and _dotted(node).startswith("followup."):
                    refs.append(Reference(where, _dotted(node), ()))
            continue
        for found in _FROM_IMPORT.finditer(piece.text):
            names = tuple(n.strip() for n in found[2].split(",") if n.strip())
            refs.append(Reference(piece.where(found.start()), found[1], names))
        for found in _DOTTED.finditer(piece.text):
            if found[0].split(".")[1] not in _FILE_SUFFIXES:
                refs.append(Reference(piece.where(found.start()), found[0], ()))
    return refs


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _module_of(dotted: str) -> tuple[ModuleType, list[str]]:
    """The longest importable module of a dotted path, and the attributes after it."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            return importlib.import_module(".".join(parts[:cut])), parts[cut:]
        except ModuleNotFoundError:
            continue
    raise AssertionError(f"nothing of {dotted!r} can be imported")


def _public(module: str) -> bool:
    return module == "followup" or any(module == p or module.startswith(p + ".") for p in PUBLIC)


def test_the_docs_import_things() -> None:
    refs = _references()
    assert any(r.module == "followup" and "Engine" in r.names for r in refs)
    assert any(r.module == "followup.testing" for r in refs)


@pytest.mark.parametrize("ref", _references(), ids=lambda r: f"{r.where} {r.module}")
def test_what_the_docs_import_is_public_and_exists(ref: Reference) -> None:
    module, rest = _module_of(ref.module)
    assert _public(module.__name__), (
        f"{ref.where}: {module.__name__} is an internal module; import from followup (add "
        f"the name to followup.__all__) or from {', '.join(PUBLIC)}"
    )
    value: Any = module
    for attr in rest:
        assert hasattr(value, attr), f"{ref.where}: {ref.module}: {attr!r} does not exist"
        value = getattr(value, attr)
    for name in ref.names:
        assert hasattr(value, name), f"{ref.where}: {ref.module} has no {name!r}"


def test_the_public_subpackages_are_named_public_in_the_embedding_guide() -> None:
    text = (DOCS / "embedding.md").read_text(encoding="utf-8")
    section = text[text.index("## What is public"):]
    section = section[: section.find("\n## ", 1) % len(section) or len(section)]
    for name in PUBLIC:
        assert f"`{name}`" in section, f"docs/embedding.md, What is public: {name} not named"
        assert f"``{name}``" in (followup.__doc__ or ""), f"followup's docstring: {name}"


def test_every_public_name_is_documented() -> None:
    text = "\n".join(f.read_text(encoding="utf-8") for f in _doc_files())
    missing = [n for n in followup.__all__
               if not re.search(rf"(?:(?<![\w.])|(?<=followup\.)){n}\b", text)]
    assert not missing, f"no doc mentions these public names: {missing}"


# -- signatures shown in prose -----------------------------------------------------------

_SPAN = re.compile(r"`([^`]+)`")
_CALLABLE = re.compile(r"^(?:(?P<qualifier>[A-Za-z_][\w.]*)\.)?(?P<name>[A-Za-z_]\w*)"
                       r"\((?P<params>.*)\)$", re.DOTALL)


def _qualified() -> dict[str, Any]:
    from followup import Engine, FakeClock, Plugins, Settings, Store, WorkCalendar, Worker

    return {"engine": Engine, "Engine": Engine, "store": Store, "engine.store": Store,
            "Store": Store, "settings": Settings, "calendar": WorkCalendar,
            "clock": FakeClock, "plugins": Plugins, "worker": Worker}


def _resolve(qualifier: str | None, name: str) -> Callable[..., Any] | None:
    if qualifier is not None:
        owner = _qualified().get(qualifier)
        return getattr(owner, name, None) if owner is not None else None
    if name in followup.__all__:
        found: Callable[..., Any] = getattr(followup, name)
        return found if callable(found) else None
    if name in followup.testing.__all__:
        return getattr(followup.testing, name)  # type: ignore[no-any-return]
    from followup import Engine, Store

    for owner in (Engine, Store, followup.testing.RecordingChannel):
        own = any(name in vars(c) for c in owner.__mro__ if c.__module__.startswith("followup"))
        if own and not name.startswith("_") and callable(getattr(owner, name)):
            return getattr(owner, name)  # type: ignore[no-any-return]
    return None


@dataclass(frozen=True)
class Shown:
    where: str
    span: str
    target: Callable[..., Any]
    params: ast.arguments


def _shown_signatures() -> list[Shown]:
    out = []
    for piece in _pieces_of_all():
        if piece.lang:
            continue
        for found in _SPAN.finditer(piece.text):
            span = " ".join(found[1].split())
            match = _CALLABLE.match(span)
            if match is None:
                continue
            try:
                tree = ast.parse(f"def f({match['params']}): pass")
            except SyntaxError:
                continue  # a call with expressions: an example, not a signature
            func = tree.body[0]
            assert isinstance(func, ast.FunctionDef)
            target = _resolve(match["qualifier"], match["name"])
            if target is not None:
                out.append(Shown(piece.where(found.start()), span, target, func.args))
    return out


_KINDS = inspect.Parameter


def _shown_params(args: ast.arguments) -> list[tuple[str, Any, Any]]:
    """(name, kind, default expression or None) as the doc writes them."""
    out: list[tuple[str, Any, Any]] = []
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    defaults += args.defaults
    for i, (arg, default) in enumerate(zip(positional, defaults, strict=True)):
        kind = _KINDS.POSITIONAL_ONLY if i < len(args.posonlyargs) else _KINDS.POSITIONAL_OR_KEYWORD
        out.append((arg.arg, kind, default))
    if args.vararg is not None:
        out.append((args.vararg.arg, _KINDS.VAR_POSITIONAL, None))
    for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        out.append((arg.arg, _KINDS.KEYWORD_ONLY, kw_default))
    if args.kwarg is not None:
        out.append((args.kwarg.arg, _KINDS.VAR_KEYWORD, None))
    return out


def _value(node: ast.expr) -> Any:
    """A default as written in a doc: a literal, or a short expression of public names."""
    names = {"timedelta": timedelta, **{n: getattr(followup.testing, n)
                                        for n in followup.testing.__all__}}
    return eval(compile(ast.Expression(node), "<doc>", "eval"), names)


def _real_params(target: Callable[..., Any]) -> list[inspect.Parameter]:
    params = list(inspect.signature(target).parameters.values())
    return params[1:] if params and params[0].name == "self" else params


def test_there_are_signatures_in_the_docs() -> None:
    spans = {s.span.split("(")[0] for s in _shown_signatures()}
    assert {"Engine", "deliveries", "retry_dead", "RecordingChannel", "load_plugins"} <= spans


@pytest.mark.parametrize("shown", _shown_signatures(), ids=lambda s: f"{s.where} {s.span[:40]}")
def test_a_signature_in_the_docs_is_the_code_s(shown: Shown) -> None:
    doc = _shown_params(shown.params)
    real = _real_params(shown.target)
    is_signature = (any(kind != _KINDS.POSITIONAL_OR_KEYWORD for _, kind, _ in doc)
                    or [n for n, _, _ in doc] == [p.name for p in real])
    if not is_signature:
        # A call, such as store.deliveries(status="dead"): it must be a valid one.
        positional = [n for n, _, d in doc if d is None]
        keywords = {n: None for n, _, d in doc if d is not None}
        try:
            inspect.Signature(real).bind(*positional, **keywords)
        except TypeError as exc:
            raise AssertionError(f"{shown.where}: `{shown.span}` is not a valid call of "
                                 f"{_qualname(shown.target)}{_text(real)}: {exc}") from exc
        return
    written = [(n, k, None if d is None else _value(d)) for n, k, d in doc]
    actual = [(p.name, p.kind, None if p.default is p.empty else p.default) for p in real]
    assert written == actual, (
        f"{shown.where}: the docs show `{shown.span}`, the code has "
        f"{_qualname(shown.target)}{_text(real)}"
    )


def _qualname(target: Callable[..., Any]) -> str:
    return getattr(target, "__qualname__", repr(target))


def _text(params: list[inspect.Parameter]) -> str:
    return str(inspect.Signature([p.replace(annotation=p.empty) for p in params]))


# -- the retry schedule -----------------------------------------------------------------


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f}"


def test_the_retry_schedule_in_the_docs_is_the_code_s() -> None:
    text = " ".join((DOCS / "plugins.md").read_text(encoding="utf-8").split())
    stated = re.search(r"after at most (\d+) seconds, then at most 1, 2, 4 minutes and so on, "
                       r"doubling up to (\d+) hours", text)
    assert stated, "docs/plugins.md no longer states the waits between attempts"
    assert (float(stated[1]), float(stated[2]) * 3600) == (BACKOFF_BASE, BACKOFF_CAP)
    dead = re.search(r"Dead after (\d+) attempts\*\*, ([\d.]+) to ([\d.]+) hours after the first",
                     text)
    assert dead, "docs/plugins.md no longer says when a row is given up"
    assert int(dead[1]) == MAX_ATTEMPTS

    class Edge:
        def __init__(self, r: float) -> None:
            self.r = r

        def random(self) -> float:
            return self.r

    waits = range(1, MAX_ATTEMPTS)  # a wait after each attempt but the last
    shortest = sum(backoff(n, rng=Edge(0.0)).total_seconds() for n in waits)  # type: ignore[arg-type]
    longest = sum(backoff(n, rng=Edge(1.0)).total_seconds() for n in waits)  # type: ignore[arg-type]
    assert (dead[2], dead[3]) == (_hours(shortest), _hours(longest))


def test_the_other_docs_link_to_the_retry_schedule_instead_of_repeating_it() -> None:
    for path in _doc_files():
        if path.name == "plugins.md" and path.parent == DOCS:
            continue
        text = " ".join(path.read_text(encoding="utf-8").split())
        repeated = re.findall(r"\b\d+ attempts\b|\b\d+(?:\.\d+)? to \d+(?:\.\d+)? hours\b", text)
        assert not repeated, f"{path.relative_to(ROOT)} repeats the retry schedule: {repeated}"
    for name in ("embedding.md", "cli.md"):
        assert "plugins.md#how-delivery-treats-a-channel" in (DOCS / name).read_text(
            encoding="utf-8"), f"docs/{name} does not link to the retry schedule"
