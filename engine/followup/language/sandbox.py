"""Conditions and message templates in a sandboxed language: no ``eval``, no internals.

Both are Jinja2 under its immutable sandbox: attribute walks into Python internals
(``__class__``, ``__globals__``, ``mro``, format-string tricks) are refused, values
cannot be mutated, and ranges are bounded. Everything is compiled when a rule pack loads,
so a typo is a load-time error with a line number, not a failed reminder months later.

A ``Sandbox`` is one such environment with the filters plugins added
(``followup_register_template_filters``). Each set of loaded plugins has its own, and a
rule pack is compiled in it, so two engines with different plugins never share filters,
and a filter no plugin registered is a load-time error like any other typo.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import jinja2
import jinja2.meta
import jinja2.nodes
import jinja2.visitor
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from followup.errors import suggest

__all__ = [
    "Condition",
    "ExpressionError",
    "FilterError",
    "Sandbox",
    "Template",
    "check_filter",
    "compile_condition",
    "compile_template",
    "default_sandbox",
]


class ExpressionError(ValueError):
    """A condition or template does not compile, or names something unknown."""

    def __init__(self, message: str, *, line: int = 0) -> None:
        super().__init__(message)
        self.line = line  # 1-based line inside the expression or template; 0 if unknown


class FilterError(ExpressionError):
    """A filter a plugin registered raised: the message names the filter and the plugin."""


def _finalize(value: Any) -> Any:
    # A fact that was never recorded renders as nothing rather than the word "None".
    return "" if value is None else value


# What one evaluation of a template or condition may use: rule packs come from other
# people, and a reminder must never hang the daemon or fill its memory.
MAX_TEXT = 100_000  # characters (or items) in any value made, and in a rendered message
MAX_STEPS = 100_000  # loop turns, calls and filters in one evaluation
_MAX_ARGUMENT = 1_000  # a number given to a filter (a width, an indent, a count)
_MAX_BITS = 10_000  # the size of a whole number made by ** or *
_BUDGET: ContextVar[list[int] | None] = ContextVar("followup_sandbox_budget", default=None)
_SPEC = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(\*|\d+)?(?:\.(\*|\d*))?")


def _too_big(what: str) -> SecurityError:
    return SecurityError(f"{what} is too big: a template or condition may make values of at "
                         f"most {MAX_TEXT:,} characters")


def _spend(steps: int = 1) -> None:
    """Count work against the evaluation's budget; refuse once it is spent."""
    left = _BUDGET.get()
    if left is None:
        return
    left[0] -= steps
    if left[0] < 0:
        raise SecurityError(f"it takes more than {MAX_STEPS:,} steps (loop turns, calls and "
                            "filters): a template or condition must finish quickly")


@contextmanager
def _budget() -> Iterator[None]:
    token = _BUDGET.set([MAX_STEPS])
    try:
        yield
    finally:
        _BUDGET.reset(token)


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str | list | tuple | dict) else 0


def _check_percent(text: str) -> None:
    """``"%99999999s" % x``: a width or precision that would make a huge text."""
    for match in _SPEC.finditer(text):
        for number in match.groups():
            if number == "*" or (number and int(number) > MAX_TEXT):
                raise _too_big(f"the format {match.group(0)!r}")


def _check_binop(operator: str, left: Any, right: Any) -> None:
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(times, int) and (
                    len(seq) * times > MAX_TEXT):
                raise _too_big("a repeated text or list")
        if isinstance(left, int) and isinstance(right, int) and (
                left.bit_length() + right.bit_length() > _MAX_BITS):
            raise _too_big("a product")
    elif operator == "**" and isinstance(left, int) and isinstance(right, int):
        if abs(left) > 1 and right > 0 and left.bit_length() * right > _MAX_BITS:
            raise _too_big("a power")
    elif operator == "+" and _size(left) + _size(right) > MAX_TEXT:
        raise _too_big("a joined text or list")
    elif operator == "%" and isinstance(left, str):
        _check_percent(left)


def _bounded_join(parts: Iterable[Any]) -> str:
    """``"".join`` that stops at ``MAX_TEXT``: a block, a macro, a rendered message."""
    out: list[str] = []
    total = 0
    for part in parts:
        text = str(part)
        total += len(text)
        if total > MAX_TEXT:
            raise _too_big("the text")
        out.append(text)
    return "".join(out)


def _counted(iterable: Iterable[Any]) -> Iterator[Any]:
    """A loop's items, each turn counted against the budget."""
    for item in iterable:
        _spend()
        yield item


def _join(*args: Any) -> str:  # the ~ operator
    return _bounded_join(args)


def _filter_check(name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """Before a built-in filter runs: the sizes it would make."""
    for value in (*args[1:], *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _MAX_ARGUMENT:
            raise SecurityError(f"the filter {name!r} was given {value}: numbers given to "
                                f"filters may be at most {_MAX_ARGUMENT:,}")
    text = args[0] if args else ""
    if name == "format" and isinstance(text, str):
        _check_percent(text)
    elif name == "indent" and isinstance(text, str):
        width = args[1] if len(args) > 1 else kwargs.get("width", 4)
        lines = text.count("\n") + 1
        if len(text) + (len(width) if isinstance(width, str) else int(width)) * lines > MAX_TEXT:
            raise _too_big("the indented text")
    elif name == "replace" and len(args) >= 3 and isinstance(text, str):
        old, new = str(args[1]), str(args[2])
        hits = text.count(old) if old else len(text) + 1
        if len(text) + hits * max(0, len(new) - len(old)) > MAX_TEXT:
            raise _too_big("the replaced text")


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    passes = getattr(function, "jinja_pass_arg", None)

    @functools.wraps(function)  # keeps Jinja's pass_context and friends
    def run(*args: Any, **kwargs: Any) -> Any:
        _spend()
        _filter_check(name, args[1:] if passes else args, kwargs)
        if name == "join":
            given = list(args[1:] if passes else args)
            given[0] = list(_counted(given[0]))
            args = (*args[:1], *given) if passes else tuple(given)
        result = function(*args, **kwargs)
        if _size(result) > MAX_TEXT:
            raise _too_big(f"what the filter {name!r} made")
        return result

    return run


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, with bounds on time and size: ``*``, ``**``, ``+`` and
    ``%`` check what they would make, loops and calls count against a budget, and no
    value or message grows past ``MAX_TEXT``."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _check_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _spend()
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        if super().wrap_str_format(value) is None:
            return None

        def refused(*args: Any, **kwargs: Any) -> str:
            raise SecurityError("str.format is not allowed in rules: write the text with "
                                "{{ }} instead")

        return refused


def _environment() -> ImmutableSandboxedEnvironment:
    env = _BoundedSandbox(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    env.concat = _bounded_join  # type: ignore[method-assign]
    env.filters = {name: _bounded_filter(name, f) for name, f in env.filters.items()}
    env.globals.pop("lipsum", None)  # lorem ipsum of any length: no use in a reminder
    env.globals[_LOOP] = _counted
    env.globals[_CONCAT] = _join
    return env


_LOOP, _CONCAT = "followup_loop_", "followup_concat_"  # unknown names in a rule pack's eyes


class _Bound(jinja2.visitor.NodeTransformer):
    """Rewrites a parsed template so each loop turn and each ``~`` goes through the
    sandbox's budget and size checks (Jinja compiles them to plain Python otherwise)."""

    def visit_For(self, node: jinja2.nodes.For) -> jinja2.nodes.Node:
        self.generic_visit(node)
        node.iter = jinja2.nodes.Call(jinja2.nodes.Name(_LOOP, "load", lineno=node.lineno),
                                      [node.iter], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: jinja2.nodes.Concat) -> jinja2.nodes.Node:
        self.generic_visit(node)
        return jinja2.nodes.Call(jinja2.nodes.Name(_CONCAT, "load", lineno=node.lineno),
                                 list(node.nodes), [], None, None, lineno=node.lineno)


_FILTER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
BUILTIN_FILTERS = frozenset(_environment().filters)


class Sandbox:
    """The environment conditions and templates compile in: Jinja2's immutable sandbox
    and its own filters, plus the filters of one set of plugins.

    ``filters`` maps a filter's name to the function and the plugin it came from. A name
    that is not an identifier, or that is one of Jinja2's own filters, raises
    ``ValueError``. A filter that raises when a template or condition uses it raises
    ``FilterError``, naming the filter and its plugin.
    """

    def __init__(self, filters: Mapping[str, tuple[Callable[..., Any], str]] | None = None) -> None:
        self.env = _environment()
        self.origins: dict[str, str] = {}
        for name, (function, origin) in (filters or {}).items():
            check_filter(name, function, origin)
            self.env.filters[name] = _guarded(name, origin, function)
            self.origins[name] = origin

    @property
    def filters(self) -> frozenset[str]:
        """The names of the filters plugins added."""
        return frozenset(self.origins)

    def __repr__(self) -> str:
        return f"Sandbox(filters={sorted(self.origins)})"


def check_filter(name: str, function: object, origin: str) -> None:
    """Raise ``ValueError`` unless ``name`` and ``function`` can be a filter."""
    if not isinstance(name, str) or not _FILTER_NAME.match(name):
        raise ValueError(f"{origin} registers the template filter {name!r}: a filter's "
                         "name is letters, digits and _, not starting with a digit")
    if name in BUILTIN_FILTERS:
        raise ValueError(f"{origin} registers the template filter {name!r}, one of "
                         "Jinja's own filters: choose another name")
    if not callable(function):
        raise ValueError(f"{origin} registers the template filter {name!r} as "
                         f"{function!r}, which is not a function")


def _guarded(name: str, origin: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)  # keeps Jinja's pass_context and friends
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except ExpressionError:
            raise
        except Exception as exc:
            raise FilterError(f"the filter {name!r} from {origin} failed: "
                              f"{type(exc).__name__}: {exc}") from exc

    return run


@functools.cache
def default_sandbox() -> Sandbox:
    """The sandbox without plugin filters (never changed after it is made)."""
    return Sandbox()


@dataclass(frozen=True, eq=False)
class Condition:
    """A compiled condition; ``holds(context)`` evaluates it to a bool."""

    source: str
    names: frozenset[str]
    _compiled: Any
    fields: dict[str, frozenset[str]] = field(default_factory=dict)  # count -> {interviewer}

    def holds(self, context: Mapping[str, Any]) -> bool:
        try:
            with _budget():
                return bool(self._compiled(**context))
        except FilterError as exc:
            raise FilterError(f"condition {self.source!r}: {exc}") from exc
        except SecurityError as exc:
            raise ExpressionError(f"condition {self.source!r} was refused: {exc}") from exc
        except jinja2.UndefinedError as exc:
            raise ExpressionError(f"condition {self.source!r}: {exc}") from exc
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise ExpressionError(f"condition {self.source!r} failed: {exc}") from exc
        except (RecursionError, MemoryError) as exc:
            raise ExpressionError(f"condition {self.source!r} was stopped: it needs too "
                                  f"much {_need(exc)}") from exc


@dataclass(frozen=True, eq=False)
class Template:
    """A compiled message template; ``render(context)`` gives its text."""

    source: str
    names: frozenset[str]
    _compiled: jinja2.Template
    contact_fields: frozenset[str] = frozenset()  # e.g. {"name", "title"}: what it shows

    def render(self, context: Mapping[str, Any]) -> str:
        try:
            with _budget():
                return self._compiled.render(context)
        except FilterError as exc:
            raise FilterError(f"template: {exc}") from exc
        except SecurityError as exc:
            raise ExpressionError(f"template was refused: {exc}") from exc
        except jinja2.UndefinedError as exc:
            raise ExpressionError(f"template: {exc}") from exc
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise ExpressionError(f"template failed: {exc}") from exc
        except (RecursionError, MemoryError) as exc:
            raise ExpressionError(f"template was stopped: it needs too much {_need(exc)}"
                                  ) from exc


def _need(exc: BaseException) -> str:
    return "memory" if isinstance(exc, MemoryError) else "recursion (a macro calling itself?)"


def _check_internal(ast: jinja2.nodes.Template, what: str) -> None:
    """Refuse, when the pack loads, any reach into internals (``x.__class__``,
    ``x['_secret']``); the sandbox would refuse it at render time too, but later."""
    for node in ast.find_all((jinja2.nodes.Getattr, jinja2.nodes.Getitem)):
        if isinstance(node, jinja2.nodes.Getattr):
            attr = node.attr
        elif (
            isinstance(node, jinja2.nodes.Getitem)
            and isinstance(node.arg, jinja2.nodes.Const)
            and isinstance(node.arg.value, str)
        ):
            attr = node.arg.value
        else:
            continue
        if attr.startswith("_") or attr in ("mro", "format", "format_map"):
            raise ExpressionError(
                f"{what} reaches for {attr!r}, which is not allowed: rules may use facts, "
                "contacts and the application's fields, not Python internals",
                line=node.lineno,
            )


def _check_fields(
    ast: jinja2.nodes.Template, fields: Mapping[str, Collection[str]], what: str
) -> None:
    """Refuse ``count.intervewer`` or ``application.compnay`` when the pack loads: for
    names whose fields are known, every field used must be one of them."""
    for node in ast.find_all(jinja2.nodes.Getattr):
        if not isinstance(node.node, jinja2.nodes.Name) or node.node.name not in fields:
            continue
        allowed = fields[node.node.name]
        if node.attr in allowed:
            continue
        hint = suggest(node.attr, allowed, prefix=f"{node.node.name}.")
        raise ExpressionError(
            f"{what} uses {node.node.name}.{node.attr}, which does not exist{hint}: "
            f"{node.node.name} has {', '.join(sorted(allowed))}",
            line=node.lineno,
        )


def _check_filters(source: str, sandbox: Sandbox, what: str, *, wrap: bool = False) -> None:
    """Refuse a filter nobody registered, naming it and the filters there are: Jinja's
    own message says only that it is unknown."""
    try:
        ast = sandbox.env.parse("{{ (" + source + ") }}" if wrap else source)
    except jinja2.TemplateSyntaxError:
        return  # compiling reports it
    for node in ast.find_all(jinja2.nodes.Filter):
        if node.name in sandbox.env.filters:
            continue
        hint = suggest(node.name, sandbox.env.filters)
        added = ", ".join(sorted(sandbox.filters)) or "none"
        raise ExpressionError(
            f"{what} uses the filter {node.name!r}, which does not exist{hint}: filters "
            f"from plugins: {added} (a plugin that is not loaded adds none: see "
            "followup plugins)",
            line=node.lineno,
        )


def _check_names(used: set[str], known: Collection[str], what: str) -> None:
    unknown = sorted(used - set(known))
    if not unknown:
        return
    name = unknown[0]
    raise ExpressionError(
        f"{what} uses unknown name {name!r}{suggest(name, known)}: "
        f"known names are {', '.join(sorted(known))} (declare a new fact under facts:)"
    )


def compile_condition(
    source: str,
    *,
    known: Collection[str],
    fields: Mapping[str, Collection[str]] | None = None,
    sandbox: Sandbox | None = None,
) -> Condition:
    """Compile a condition such as ``count.interviewer == 0 and not not_interested``
    (in ``sandbox``, for plugins' filters; the plain sandbox when omitted)."""
    sandbox = sandbox or default_sandbox()
    env = sandbox.env
    _check_filters(source, sandbox, f"condition {source!r}", wrap=True)
    try:
        ast = env.parse("{{ (" + source + ") }}")
        compiled = env.compile_expression(source, undefined_to_none=False)
    except jinja2.TemplateSyntaxError as exc:
        raise ExpressionError(f"condition {source!r} does not parse: {exc.message}") from exc
    _check_internal(ast, f"condition {source!r}")
    _check_fields(ast, fields or {}, f"condition {source!r}")
    used = jinja2.meta.find_undeclared_variables(ast)
    _check_names(used, known, f"condition {source!r}")
    used_fields: dict[str, set[str]] = {}
    for node in ast.find_all(jinja2.nodes.Getattr):
        if isinstance(node.node, jinja2.nodes.Name):
            used_fields.setdefault(node.node.name, set()).add(node.attr)
    return Condition(source=source, names=frozenset(used), _compiled=compiled,
                     fields={k: frozenset(v) for k, v in used_fields.items()})


def compile_template(
    source: str,
    *,
    known: Collection[str],
    fields: Mapping[str, Collection[str]] | None = None,
    sandbox: Sandbox | None = None,
) -> Template:
    """Compile a message template such as ``Dear {{ contact.name }},`` (in ``sandbox``,
    for plugins' filters; the plain sandbox when omitted)."""
    sandbox = sandbox or default_sandbox()
    env = sandbox.env
    _check_filters(source, sandbox, "template")
    try:
        ast = env.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        raise ExpressionError(
            f"template does not parse: {exc.message}", line=exc.lineno or 0
        ) from exc
    _check_internal(ast, "template")
    _check_fields(ast, fields or {}, "template")
    used = jinja2.meta.find_undeclared_variables(ast)
    _check_names(used, known, "template")
    try:
        compiled = env.from_string(_Bound().visit(env.parse(source)))
    except jinja2.TemplateSyntaxError as exc:
        raise ExpressionError(
            f"template does not parse: {exc.message}", line=exc.lineno or 0
        ) from exc
    shown = frozenset(
        node.attr
        for node in ast.find_all(jinja2.nodes.Getattr)
        if isinstance(node.node, jinja2.nodes.Name) and node.node.name == "contact"
    )
    return Template(source=source, names=frozenset(used), _compiled=compiled,
                    contact_fields=shown)
