"""Compiled conditions and templates as values, without the compiler.

A rule pack read from the pack cache holds its conditions and templates as source, to be
compiled by ``followup.language.sandbox`` (Jinja2 under its immutable sandbox) when one is
first evaluated. This module holds what such a pack and the engine need before that
moment: the ``Condition`` and ``Template`` values, the ``Sandbox`` a pack compiles in, and
the errors an evaluation raises. None of it imports Jinja2, so a command that evaluates no
condition and renders no template (``show``, ``list``, ``agenda``) never loads it; the
sandbox makes its environment when something first compiles in it.
"""

from __future__ import annotations

import functools
import re
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from followup.language._bounds import budget

if TYPE_CHECKING:
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

__all__ = [
    "Condition",
    "ExpressionError",
    "FilterError",
    "Sandbox",
    "Template",
    "check_filter",
    "default_sandbox",
]


class ExpressionError(ValueError):
    """A condition or template does not compile, or names something unknown."""

    def __init__(self, message: str, *, line: int = 0) -> None:
        super().__init__(message)
        self.line = line  # 1-based line inside the expression or template; 0 if unknown


class FilterError(ExpressionError):
    """A filter a plugin registered raised: the message names the filter and the plugin."""


class Sandbox:
    """The environment conditions and templates compile in: Jinja2's immutable sandbox
    and its own filters, plus the filters of one set of plugins.

    ``filters`` maps a filter's name to the function and the plugin it came from. A name
    that is not an identifier, or that is one of Jinja2's own filters, raises
    ``ValueError``. A filter that raises when a template or condition uses it raises
    ``FilterError``, naming the filter and its plugin. The Jinja2 environment (``env``)
    is made when something first compiles in it.
    """

    def __init__(self, filters: Mapping[str, tuple[Callable[..., Any], str]] | None = None) -> None:
        self.origins: dict[str, str] = {}
        self._added: dict[str, Callable[..., Any]] = {}
        self._env: ImmutableSandboxedEnvironment | None = None
        for name, (function, origin) in (filters or {}).items():
            check_filter(name, function, origin)
            self._added[name] = _guarded(name, origin, function)
            self.origins[name] = origin

    @property
    def env(self) -> ImmutableSandboxedEnvironment:
        """The Jinja2 environment, with the plugins' filters."""
        if self._env is None:
            from followup.language.sandbox import environment

            env = environment()
            env.filters.update(self._added)
            self._env = env
        return self._env

    @property
    def filters(self) -> frozenset[str]:
        """The names of the filters plugins added."""
        return frozenset(self.origins)

    def __repr__(self) -> str:
        return f"Sandbox(filters={sorted(self.origins)})"


_FILTER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_filter(name: str, function: object, origin: str) -> None:
    """Raise ``ValueError`` unless ``name`` and ``function`` can be a filter."""
    if not isinstance(name, str) or not _FILTER_NAME.match(name):
        raise ValueError(f"{origin} registers the template filter {name!r}: a filter's "
                         "name is letters, digits and _, not starting with a digit")
    from followup.language.sandbox import BUILTIN_FILTERS

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
    #: Its fast form (``_fastbuild``): None when not known yet, False when it has none.
    fast: Any = None

    def holds(self, context: Mapping[str, Any]) -> bool:
        try:
            with budget():
                return bool(self._compiled(**context))
        except Exception as exc:
            failure = _explained(exc, f"condition {self.source!r}")
            if failure is None:
                raise
            raise failure from exc


@dataclass(frozen=True, eq=False)
class Template:
    """A compiled message template; ``render(context)`` gives its text."""

    source: str
    names: frozenset[str]
    _compiled: jinja2.Template
    contact_fields: frozenset[str] = frozenset()  # e.g. {"name", "title"}: what it shows
    #: Its fast form (``_fastbuild``): None when not known yet, False when it has none.
    fast: Any = None

    def render(self, context: Mapping[str, Any]) -> str:
        try:
            fast = _fast_templates[self]
        except KeyError:
            fast = _fast_templates[self] = _fast_template(self)
        if fast is not None:
            try:
                return fast(context)
            except Exception:  # not a case the fast path knows: the sandbox decides
                pass
        try:
            with budget():
                return self._compiled.render(context)
        except Exception as exc:
            failure = _explained(exc, "template")
            if failure is None:
                raise
            raise failure from exc


#: Each template's fast form (``_fasttemplates``), None where the sandbox renders it.
_fast_templates: weakref.WeakKeyDictionary[Template, Callable[[Mapping[str, Any]], str] | None] = (
    weakref.WeakKeyDictionary())


def _fast_template(template: Template) -> Callable[[Mapping[str, Any]], str] | None:
    """The closure rendering ``template`` by its fast form, or None."""
    found = template.fast
    if found is None:
        from followup.language._fasttemplates import template_form

        found = template_form(template.source)
    if not found:
        return None
    from followup.language._fastbuild import GiveUp
    from followup.language._fastbuild import template as build

    try:
        return build(found)
    except (GiveUp, ValueError):
        return None


def _explained(exc: Exception, subject: str) -> ExpressionError | None:
    """What an evaluation of ``subject`` that raised ``exc`` raises instead: the error
    named, as an ``ExpressionError``; None for an error of followup's own making, which
    goes on as it is. (Jinja2 is loaded by then: the expression was compiled.)"""
    import jinja2
    from jinja2.exceptions import SecurityError

    if isinstance(exc, FilterError):
        return FilterError(f"{subject}: {exc}")
    if isinstance(exc, SecurityError):
        return ExpressionError(f"{subject} was refused: {exc}")
    if isinstance(exc, jinja2.UndefinedError):
        return ExpressionError(f"{subject}: {exc}")
    # TemplateError: e.g. select('a test that does not exist')
    if isinstance(exc, jinja2.TemplateError | TypeError | ValueError | ArithmeticError
                  | LookupError):
        return ExpressionError(f"{subject} failed: {exc}")
    if isinstance(exc, RecursionError | MemoryError):
        return ExpressionError(f"{subject} was stopped: it needs too much {need(exc)}")
    return None


def need(exc: BaseException) -> str:
    """What an evaluation stopped by ``exc`` needed too much of."""
    return "memory" if isinstance(exc, MemoryError) else "recursion (a macro calling itself?)"
