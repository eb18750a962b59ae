"""Message templates read into their fast form (``_fastbuild``), as ``_fastconditions``
does for conditions.

Rendering a Jinja2 template builds a fresh template context every time, which made it a
large share of firing a reminder. Most templates are text with a few values in it
(``Thank {{ contact.name }} for the interview at {{ application.company }}``) and perhaps
an ``{% if %}``: those are rendered by closures (a value that is None writes nothing; the
text is bounded as the sandbox bounds it). Anything else (a loop, a filter, a call,
arithmetic, a value that is not text, a number or None, a name the context lacks) is not
guessed at: the closure gives up and the sandbox renders the whole template, so its
result and its errors are the sandbox's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jinja2
import jinja2.nodes as n

from followup.language._fastbuild import GiveUp, Render, template
from followup.language._fastconditions import form

__all__ = ["compile_fast_template", "template_form"]

_PARSER = jinja2.Environment(keep_trailing_newline=True)  # the sandbox's grammar and lexer


def template_form(source: str) -> list[Any] | None:
    """The fast form of the template ``source``, or None when it uses something the
    fast path does not handle."""
    try:
        tree = _PARSER.parse(source)
        if any(True for _ in tree.find_all(n.BinExpr)):
            return None  # the sandbox bounds what arithmetic makes
        found = _block(tree.body)
        template(found)  # what cannot be built is not a fast form
    except (jinja2.TemplateSyntaxError, GiveUp, RecursionError):
        return None
    return found


def compile_fast_template(source: str) -> Render | None:
    """A closure rendering ``source``, or None (see ``template_form``)."""
    found = template_form(source)
    return None if found is None else template(found)


def _block(nodes: Sequence[n.Node]) -> list[Any]:
    return ["block", [_statement(node) for node in nodes]]


def _statement(node: n.Node) -> list[Any]:
    if isinstance(node, n.Output):
        return ["out", [_part(child) for child in node.nodes]]
    if isinstance(node, n.If):
        branches = [[form(node.test), _block(node.body)]]
        branches += [[form(e.test), _block(e.body)] for e in node.elif_]
        return ["if", branches, _block(node.else_)]
    raise GiveUp(type(node).__name__)


def _part(node: n.Node) -> list[Any]:
    if isinstance(node, n.TemplateData):
        return ["data", node.data]
    if isinstance(node, n.CondExpr):
        if node.expr2 is None:
            raise GiveUp("an if without an else")  # the sandbox's undefined value
        return ["cond", form(node.test), form(node.expr1), form(node.expr2)]
    return ["value", form(node)]
