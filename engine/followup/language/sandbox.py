"""Conditions and message templates in a sandboxed language: no ``eval``, no internals.

Both are Jinja2 under its immutable sandbox: attribute walks into Python internals
(``__class__``, ``__globals__``, ``mro``, format-string tricks) are refused, values
cannot be mutated, and the only names are the documented ones (none of Jinja's globals).
What an evaluation may make and take is bounded (``_bounds``), and what its constants
alone show would break a bound, or nesting too deep to parse, is refused when it loads
(``_loadchecks``). Everything is compiled when a rule pack loads, so a typo is a
load-time error with a line number, not a failed reminder months later.

A ``Sandbox`` is one such environment with the filters plugins added
(``followup_register_template_filters``). Each set of loaded plugins has its own, and a
rule pack is compiled in it, so two engines with different plugins never share filters,
and a filter no plugin registered is a load-time error like any other typo.

The values this compiles to (``Condition``, ``Template``), the ``Sandbox`` and the errors
live in ``followup.language.expressions``, which does not import Jinja2; this module
imports it, and is imported when something first compiles.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Mapping
from typing import Any

import jinja2
import jinja2.meta
import jinja2.nodes
import jinja2.visitor
from jinja2.environment import TemplateExpression
from jinja2.exceptions import SecurityError
from jinja2.parser import Parser
from jinja2.sandbox import ImmutableSandboxedEnvironment

from followup.errors import suggest
from followup.language._bounds import (
    MAX_ARGUMENT,
    MAX_SECONDS,
    MAX_STEPS,
    MAX_TEXT,
    bounded_join,
    budget,
    check_binop,
    check_filter_call,
    check_join,
    check_method,
    counted,
    made,
    metered,
    spend,
)
from followup.language._loadchecks import Refused, check_nesting, check_tree
from followup.language.expressions import (
    Condition,
    ExpressionError,
    FilterError,
    Sandbox,
    Template,
    check_filter,
    default_sandbox,
)

__all__ = [
    "MAX_ARGUMENT",
    "MAX_SECONDS",
    "MAX_STEPS",
    "MAX_TEXT",
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


def _finalize(value: Any) -> Any:
    # A fact that was never recorded renders as nothing rather than the word "None".
    return "" if value is None else value


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    passes = getattr(function, "jinja_pass_arg", None)

    @functools.wraps(function)  # keeps Jinja's pass_context and friends
    def run(*args: Any, **kwargs: Any) -> Any:
        spend()
        check_filter_call(name, args[1:] if passes else args, kwargs)
        if name == "join":
            given = list(args[1:] if passes else args)
            given[0] = list(counted(metered(given[0], "what the filter 'join' was given")))
            check_join(given[1] if len(given) > 1 else kwargs.get("d", ""), given[0])
            args = (*args[:1], *given) if passes else tuple(given)
        return made(function(*args, **kwargs), f"what the filter {name!r} made")

    return run


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, with bounds on time and size: ``*``, ``**``, ``+`` and
    ``%`` check what they would make, loops and calls count against a budget, and no
    value or message grows past ``MAX_TEXT``."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        check_binop(operator, left, right)
        return made(super().call_binop(context, operator, left, right),
                    f"what {operator!r} made")

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        spend()
        if __obj in _OWN:
            return super().call(__context, __obj, *args, **kwargs)
        owner = getattr(__obj, "__self__", None)
        name = getattr(__obj, "__name__", "")
        if owner is not None and isinstance(name, str):
            check_method(owner, name, args, kwargs)
            if name == "join" and isinstance(owner, str | bytes) and len(args) == 1:
                items = list(counted(metered(args[0], "what join was given")))
                check_join(owner, items)
                args = (items,)
        return made(super().call(__context, __obj, *args, **kwargs),
                    f"what {name or 'the call'} made")

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        if super().wrap_str_format(value) is None:
            return None

        def refused(*args: Any, **kwargs: Any) -> str:
            raise SecurityError("str.format is not allowed in rules: write the text with "
                                "{{ }} instead")

        return refused


def environment() -> ImmutableSandboxedEnvironment:
    """A new environment of the sandbox, with Jinja's filters bounded and no globals."""
    env = _BoundedSandbox(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    env.concat = bounded_join  # type: ignore[method-assign]
    env.filters = {name: _bounded_filter(name, f) for name, f in env.filters.items()}
    # The names a rule pack may use are the documented ones (docs/rules.md), and nothing
    # else: not Jinja's range, dict, lipsum, cycler, joiner or namespace.
    env.globals.clear()
    env.globals.update({_LOOP: counted, _CONCAT: _join, _MAKE: _make})
    return env


def _join(*args: Any) -> str:  # the ~ operator
    return bounded_join(args)


def _make(value: Any) -> Any:  # a list, tuple or mapping written in a template
    return made(value, "a list or mapping")


# Unknown names in a rule pack's eyes; called without the checks on calls.
_LOOP, _CONCAT, _MAKE = "followup_loop_", "followup_concat_", "followup_make_"
_OWN = (counted, _join, _make)


class _Bound(jinja2.visitor.NodeTransformer):
    """Rewrites a parsed template so each loop turn, each ``~`` and each list, tuple or
    mapping written in it goes through the sandbox's budget and size checks (Jinja
    compiles them to plain Python otherwise)."""

    def visit_For(self, node: jinja2.nodes.For) -> jinja2.nodes.Node:
        self.generic_visit(node)
        node.iter = jinja2.nodes.Call(jinja2.nodes.Name(_LOOP, "load", lineno=node.lineno),
                                      [node.iter], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: jinja2.nodes.Concat) -> jinja2.nodes.Node:
        self.generic_visit(node)
        return jinja2.nodes.Call(jinja2.nodes.Name(_CONCAT, "load", lineno=node.lineno),
                                 list(node.nodes), [], None, None, lineno=node.lineno)

    def _literal(self, node: jinja2.nodes.List | jinja2.nodes.Tuple | jinja2.nodes.Dict
                 ) -> jinja2.nodes.Node:
        self.generic_visit(node)
        if getattr(node, "ctx", "load") != "load":
            return node  # the names of {% for a, b in ... %}: nothing is made
        return jinja2.nodes.Call(jinja2.nodes.Name(_MAKE, "load", lineno=node.lineno),
                                 [node], [], None, None, lineno=node.lineno)

    visit_List = visit_Tuple = visit_Dict = _literal


#: The names of Jinja's own filters, which no plugin's filter may take.
BUILTIN_FILTERS = frozenset(environment().filters)


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


def _check_filters(ast: jinja2.nodes.Template, sandbox: Sandbox, what: str) -> None:
    """Refuse a filter nobody registered, naming it and the filters there are: Jinja's
    own message says only that it is unknown."""
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


def _check_tests(ast: jinja2.nodes.Template, sandbox: Sandbox, what: str) -> None:
    """Refuse ``x is frobnicated`` when the pack loads, naming the tests there are (Jinja
    would raise its own error, not a rule pack's, when the names are looked for)."""
    for node in ast.find_all(jinja2.nodes.Test):
        if node.name in sandbox.env.tests:
            continue
        hint = suggest(node.name, sandbox.env.tests)
        words = ", ".join(sorted(name for name in sandbox.env.tests if name.isidentifier()))
        raise ExpressionError(
            f"{what} uses the test {node.name!r}, which does not exist{hint}: the tests "
            f"after 'is' are {words}",
            line=node.lineno,
        )


def _undeclared(ast: jinja2.nodes.Template, what: str) -> set[str]:
    """The names ``ast`` reads; Jinja finds them by compiling it, so what only its
    compiler refuses (a block defined twice) is refused here, as a pack's error."""
    try:
        return jinja2.meta.find_undeclared_variables(ast)
    except jinja2.TemplateSyntaxError as exc:
        raise ExpressionError(f"{what} does not parse: {exc.message}",
                              line=exc.lineno or 0) from exc


def _check_names(used: set[str], known: Collection[str], what: str) -> None:
    unknown = sorted(used - set(known))
    if not unknown:
        return
    name = unknown[0]
    raise ExpressionError(
        f"{what} uses unknown name {name!r}{suggest(name, known)}: "
        f"known names are {', '.join(sorted(known))} (declare a new fact under facts:)"
    )


def _parse(env: jinja2.Environment, text: str, what: str) -> jinja2.nodes.Template:
    """Parse ``text`` once its nesting and size are known to be reasonable; refuse at
    once what its constants show would exceed the bounds."""
    try:
        check_nesting(env, text)
        ast = env.parse(text)
        check_tree(ast)
    except Refused as exc:
        raise ExpressionError(f"{what} was refused: {exc}", line=exc.line) from exc
    except jinja2.TemplateSyntaxError as exc:
        raise ExpressionError(f"{what} does not parse: {exc.message}",
                              line=exc.lineno or 0) from exc
    except (RecursionError, MemoryError) as exc:
        raise ExpressionError(f"{what} is too complex to read: write it flatter") from exc
    return ast


def _generate(env: jinja2.Environment, ast: jinja2.nodes.Template, what: str
              ) -> jinja2.Template:
    """Compile a checked tree, bounded (``_Bound``). Jinja runs filters on constants as it
    compiles, so that happens under an evaluation's budget too."""
    tree = _Bound().visit(ast)
    tree.set_environment(env)
    try:
        with budget():
            return env.from_string(tree)
    except jinja2.TemplateSyntaxError as exc:
        raise ExpressionError(f"{what} does not parse: {exc.message}",
                              line=exc.lineno or 0) from exc
    except (RecursionError, MemoryError, SyntaxError) as exc:
        raise ExpressionError(f"{what} is too complex to compile: write it flatter") from exc


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
    what = f"condition {source!r}"
    ast = _parse(env, "{{ (" + source + ") }}", what)
    _check_filters(ast, sandbox, what)
    _check_tests(ast, sandbox, what)
    _check_internal(ast, what)
    _check_fields(ast, fields or {}, what)
    used = _undeclared(ast, what)
    _check_names(used, known, what)
    # What ``env.compile_expression`` does, with the tree bounded on the way.
    try:
        parser = Parser(env, source, state="variable")
        expression = parser.parse_expression()
        if not parser.stream.eos:
            raise jinja2.TemplateSyntaxError("chunk after expression",
                                             parser.stream.current.lineno, None, None)
    except jinja2.TemplateSyntaxError as exc:
        raise ExpressionError(f"{what} does not parse: {exc.message}") from exc
    assign = jinja2.nodes.Assign(jinja2.nodes.Name("result", "store"), expression, lineno=1)
    compiled = TemplateExpression(_generate(env, jinja2.nodes.Template([assign], lineno=1),
                                            what), False)
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
    ast = _parse(env, source, "template")
    _check_filters(ast, sandbox, "template")
    _check_tests(ast, sandbox, "template")
    _check_internal(ast, "template")
    _check_fields(ast, fields or {}, "template")
    used = _undeclared(ast, "template")
    _check_names(used, known, "template")
    shown = frozenset(
        node.attr
        for node in ast.find_all(jinja2.nodes.Getattr)
        if isinstance(node.node, jinja2.nodes.Name) and node.node.name == "contact"
    )
    compiled = _generate(env, env.parse(source), "template")
    return Template(source=source, names=frozenset(used), _compiled=compiled,
                    contact_fields=shown)
