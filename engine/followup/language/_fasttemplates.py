"""Message templates rendered fast: the common shapes compiled to Python closures, the rest
left to the sandbox, as ``_fastconditions`` does for conditions.

Rendering a Jinja2 template builds a fresh template context every time, which made it a
large share of firing a reminder. Most templates are text with a few values in it
(``Thank {{ contact.name }} for the interview at {{ application.company }}``) and perhaps
an ``{% if %}``: those are compiled here, once per template, to closures that write what
the sandbox's generated code writes for them (a value that is None writes nothing; the
text is bounded as the sandbox bounds it). Anything else (a loop, a filter, a call,
arithmetic, a value that is not text, a number or None, a name the context lacks) is not
guessed at: the closure gives up and the sandbox renders the whole template, so its
result and its errors are the sandbox's own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jinja2
import jinja2.nodes as n

from followup.language._bounds import bounded_join
from followup.language._fastconditions import GiveUp, expression

__all__ = ["compile_fast_template"]

_Render = Callable[[Mapping[str, Any]], str]
_Write = Callable[[Mapping[str, Any], list[str]], None]
_PARSER = jinja2.Environment(keep_trailing_newline=True)  # the sandbox's grammar and lexer


def compile_fast_template(source: str) -> _Render | None:
    """A closure rendering ``source``, or None when it uses something not handled here."""
    try:
        tree = _PARSER.parse(source)
        if any(True for _ in tree.find_all(n.BinExpr)):
            return None  # the sandbox bounds what arithmetic makes
        write = _block(tree.body)
    except (jinja2.TemplateSyntaxError, GiveUp, RecursionError):
        return None

    def render(context: Mapping[str, Any]) -> str:
        out: list[str] = []
        write(context, out)
        return bounded_join(out)

    return render


def _block(nodes: Sequence[n.Node]) -> _Write:
    steps = [_statement(node) for node in nodes]

    def write(context: Mapping[str, Any], out: list[str]) -> None:
        for step in steps:
            step(context, out)

    return write


def _statement(node: n.Node) -> _Write:
    if isinstance(node, n.Output):
        parts = [_part(child) for child in node.nodes]

        def output(context: Mapping[str, Any], out: list[str]) -> None:
            for part in parts:
                out.append(part(context))

        return output
    if isinstance(node, n.If):
        branches = [(expression(node.test), _block(node.body))]
        branches += [(expression(e.test), _block(e.body)) for e in node.elif_]
        otherwise = _block(node.else_)

        def choose(context: Mapping[str, Any], out: list[str]) -> None:
            for test, body in branches:
                if test(context):
                    body(context, out)
                    return
            otherwise(context, out)

        return choose
    raise GiveUp(type(node).__name__)


def _part(node: n.Node) -> Callable[[Mapping[str, Any]], str]:
    if isinstance(node, n.TemplateData):
        data = node.data
        return lambda context: data
    if isinstance(node, n.CondExpr):
        if node.expr2 is None:
            raise GiveUp("an if without an else")  # the sandbox's undefined value
        test, yes, no = expression(node.test), expression(node.expr1), expression(node.expr2)
        return lambda context: _shown(yes(context) if test(context) else no(context))
    value = expression(node)
    return lambda context: _shown(value(context))


def _shown(value: Any) -> str:
    """How the sandbox writes ``value``: None as nothing, text, numbers and truth values
    as ``str`` writes them; anything else is left to it."""
    if value is None:
        return ""
    if type(value) in (str, int, float, bool):
        return str(value)
    raise GiveUp(type(value).__name__)
