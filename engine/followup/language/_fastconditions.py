"""Conditions read into their fast form (``_fastbuild``): the source parsed with Jinja2's
parser, the shapes the fast path knows written as nested lists. Imported when a
condition is compiled, or evaluated without a fast form from the pack cache.
"""

from __future__ import annotations

from typing import Any

import jinja2
import jinja2.nodes as n

from followup.language._fastbuild import COMPARE, Eval, GiveUp, constant, expression

__all__ = ["compile_fast", "condition_form", "form"]

_BINARY: dict[type[n.Node], str] = {
    n.Add: "add", n.Sub: "sub", n.Mul: "mul", n.Div: "div", n.FloorDiv: "floordiv",
    n.Mod: "mod",
}
_PARSER = jinja2.Environment()  # parsing only: the grammar is the sandbox's


def condition_form(source: str) -> list[Any] | None:
    """The fast form of the condition ``source``, or None when it uses something the
    fast path does not handle."""
    try:
        template = _PARSER.parse("{{ (" + source + ") }}")
    except jinja2.TemplateSyntaxError:
        return None
    body = template.body
    if len(body) != 1 or not isinstance(body[0], n.Output) or len(body[0].nodes) != 1:
        return None
    try:
        found = form(body[0].nodes[0])
        expression(found)  # what cannot be built is not a fast form
    except (GiveUp, RecursionError):
        return None
    return found


def compile_fast(source: str) -> Eval | None:
    """A closure for the condition ``source``, or None (see ``condition_form``)."""
    found = condition_form(source)
    return None if found is None else expression(found)


def form(node: n.Node) -> list[Any]:
    """The fast form of an expression's node; ``GiveUp`` for one it does not handle."""
    if isinstance(node, n.Const):
        if not constant(node.value):
            raise GiveUp(type(node.value).__name__)
        return ["const", node.value]
    if isinstance(node, n.Name) and node.ctx == "load":
        return ["name", node.name]
    if isinstance(node, n.Getattr):
        return ["attr", form(node.node), node.attr]
    if isinstance(node, n.Getitem):
        if not (isinstance(node.arg, n.Const) and isinstance(node.arg.value, str)):
            raise GiveUp("a computed index")
        return ["attr", form(node.node), node.arg.value]
    if isinstance(node, n.Not):
        return ["not", form(node.node)]
    if isinstance(node, n.Neg):
        return ["neg", form(node.node)]
    if isinstance(node, n.And):
        return ["and", form(node.left), form(node.right)]
    if isinstance(node, n.Or):
        return ["or", form(node.left), form(node.right)]
    if type(node) in _BINARY:
        return ["bin", _BINARY[type(node)], form(node.left),  # type: ignore[attr-defined]
                form(node.right)]  # type: ignore[attr-defined]
    if isinstance(node, n.Compare):
        ops = [[o.op, form(o.expr)] for o in node.ops]
        if any(op not in COMPARE for op, _ in ops):
            raise GiveUp("an operator")
        return ["compare", form(node.expr), ops]
    if isinstance(node, n.Test):
        if node.args or node.kwargs or node.dyn_args or node.dyn_kwargs:
            raise GiveUp("a test with arguments")
        if node.name not in ("none", "defined"):
            raise GiveUp(node.name)
        return ["test", node.name, form(node.node)]
    if isinstance(node, n.List | n.Tuple):
        return ["list" if isinstance(node, n.List) else "tuple",
                [form(item) for item in node.items]]
    raise GiveUp(type(node).__name__)
