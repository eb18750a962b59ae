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
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import jinja2
import jinja2.meta
import jinja2.nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

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


def _environment() -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        finalize=_finalize,
    )


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
            return bool(self._compiled(**context))
        except FilterError as exc:
            raise FilterError(f"condition {self.source!r}: {exc}") from exc
        except SecurityError as exc:
            raise ExpressionError(f"condition {self.source!r} was refused: {exc}") from exc
        except jinja2.UndefinedError as exc:
            raise ExpressionError(f"condition {self.source!r}: {exc}") from exc
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise ExpressionError(f"condition {self.source!r} failed: {exc}") from exc


@dataclass(frozen=True, eq=False)
class Template:
    """A compiled message template; ``render(context)`` gives its text."""

    source: str
    names: frozenset[str]
    _compiled: jinja2.Template
    contact_fields: frozenset[str] = frozenset()  # e.g. {"name", "title"}: what it shows

    def render(self, context: Mapping[str, Any]) -> str:
        try:
            return self._compiled.render(context)
        except FilterError as exc:
            raise FilterError(f"template: {exc}") from exc
        except SecurityError as exc:
            raise ExpressionError(f"template was refused: {exc}") from exc
        except jinja2.UndefinedError as exc:
            raise ExpressionError(f"template: {exc}") from exc
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise ExpressionError(f"template failed: {exc}") from exc


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
    import difflib

    for node in ast.find_all(jinja2.nodes.Getattr):
        if not isinstance(node.node, jinja2.nodes.Name) or node.node.name not in fields:
            continue
        allowed = fields[node.node.name]
        if node.attr in allowed:
            continue
        close = difflib.get_close_matches(node.attr, list(allowed), n=1)
        hint = f"did you mean {node.node.name}.{close[0]}? " if close else ""
        raise ExpressionError(
            f"{what} uses {node.node.name}.{node.attr}, which does not exist: {hint}"
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
    import difflib

    for node in ast.find_all(jinja2.nodes.Filter):
        if node.name in sandbox.env.filters:
            continue
        close = difflib.get_close_matches(node.name, list(sandbox.env.filters), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        added = ", ".join(sorted(sandbox.filters)) or "none"
        raise ExpressionError(
            f"{what} uses the filter {node.name!r}, which does not exist: {hint}filters "
            f"from plugins: {added} (a plugin that is not loaded adds none: see "
            "followup plugins)",
            line=node.lineno,
        )


def _check_names(used: set[str], known: Collection[str], what: str) -> None:
    unknown = sorted(used - set(known))
    if not unknown:
        return
    import difflib

    name = unknown[0]
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ExpressionError(
        f"{what} uses unknown name {name!r}: {hint}"
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
        compiled = env.from_string(ast)
    except jinja2.TemplateSyntaxError as exc:
        raise ExpressionError(
            f"template does not parse: {exc.message}", line=exc.lineno or 0
        ) from exc
    _check_internal(ast, "template")
    _check_fields(ast, fields or {}, "template")
    used = jinja2.meta.find_undeclared_variables(ast)
    _check_names(used, known, "template")
    shown = frozenset(
        node.attr
        for node in ast.find_all(jinja2.nodes.Getattr)
        if isinstance(node.node, jinja2.nodes.Name) and node.node.name == "contact"
    )
    return Template(source=source, names=frozenset(used), _compiled=compiled,
                    contact_fields=shown)
