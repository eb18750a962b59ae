"""Checks made when a rule pack loads, before a condition or template is compiled: how
deep it nests, and what its constants alone show it would make.

Jinja's parser and the Python code it generates recurse once per level of nesting, so a
few hundred parentheses, or a long chain of ``x + x + ...``, would end in a
``RecursionError`` (or Python's own "too many nested parentheses") instead of an error
with a position. Nesting is bounded here first, from the tokens and then from the parsed
tree, well below those limits and well above what a reminder needs.

What the constants show: ``'a'.ljust(3*10**9)``, ``'x' * 10**9``, ``x|center(99999)``
would exceed the bounds of ``_bounds`` whatever the facts are, so ``followup validate``
refuses them, with the line. The same checks run again when a template is evaluated;
here they only run sooner, on what can be told without evaluating anything.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import jinja2
import jinja2.nodes as n
from jinja2.exceptions import SecurityError

from followup.language._bounds import check_binop, check_filter_call, check_method

MAX_BRACKETS = 32  # (, [ and { inside one another
MAX_BLOCKS = 8  # {% if %}, {% for %}, {% macro %} ... inside one another
MAX_DEPTH = 60  # levels of the parsed expression tree (x + x + ... is one per +)
MAX_SOURCE = 100_000  # characters of a template's or condition's own text

_OPEN = {"(", "[", "{"}
_CLOSE = {")", "]", "}"}
_BLOCKS = {"if", "for", "macro", "call", "filter", "with", "autoescape", "block", "set"}


class Refused(Exception):
    """A load-time check failed: the message, and the line inside the source."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def check_nesting(env: jinja2.Environment, source: str) -> None:
    """Refuse brackets or blocks nested too deep, from the tokens (no recursion)."""
    if len(source) > MAX_SOURCE:
        raise Refused(f"it is {len(source):,} characters long: a template or condition may "
                      f"have at most {MAX_SOURCE:,}", 0)
    brackets = blocks = 0
    statement: list[str] = []  # the tokens of the {% ... %} being read
    try:
        for line, kind, value in env.lex(source):
            if kind == "whitespace":
                continue
            if kind == "operator" and value in _OPEN:
                brackets += 1
                if brackets > MAX_BRACKETS:
                    raise Refused(f"brackets nest more than {MAX_BRACKETS} deep here: "
                                  "write it flatter, or split it", line)
            elif kind == "operator" and value in _CLOSE:
                brackets -= 1
            elif kind == "block_begin":
                statement = [kind]
            elif kind == "block_end" and statement:
                blocks += _opens(statement)
                statement = []
                if blocks > MAX_BLOCKS:
                    raise Refused(f"blocks ({{% if %}}, {{% for %}} ...) nest more than "
                                  f"{MAX_BLOCKS} deep here: write it flatter", line)
            elif statement:
                statement.append(value)
    except jinja2.TemplateSyntaxError:
        return  # parsing reports it, with its own words


def _opens(statement: list[str]) -> int:
    """+1 for a statement that opens a block, -1 for one that closes it."""
    word = statement[1] if len(statement) > 1 else ""
    if word.startswith("end"):
        return -1
    if word == "set":
        return 0 if "=" in statement else 1  # {% set x %}...{% endset %} is a block
    return 1 if word in _BLOCKS else 0


def check_tree(ast: n.Node) -> None:
    """Refuse a parsed tree deeper than ``MAX_DEPTH`` (walked without recursion), then
    what its constants alone show would be too big."""
    todo: list[tuple[n.Node, int]] = [(ast, 0)]
    while todo:
        node, depth = todo.pop()
        if depth > MAX_DEPTH:
            raise Refused(f"it nests more than {MAX_DEPTH} levels deep here (a long chain "
                          "of operators, or brackets?): write it flatter, or split it",
                          getattr(node, "lineno", 0) or 0)
        todo.extend((child, depth + 1) for child in node.iter_child_nodes())
    for node in ast.find_all((n.Call, n.Filter, n.BinExpr)):
        try:
            _check_node(node)
        except SecurityError as exc:
            raise Refused(f"it would make a value too big, whatever the facts: {exc}",
                          node.lineno or 0) from exc


class _Unknown:
    """A value only evaluation can tell."""


_UNKNOWN: Any = _Unknown()
_INT_OPS: dict[type[n.Node], str] = {n.Add: "+", n.Sub: "-", n.Mul: "*", n.Pow: "**", n.FloorDiv: "//", n.Mod: "%"}


_ARITHMETIC: dict[str, Callable[[int, int], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "**": operator.pow,
    "//": operator.floordiv, "%": operator.mod}


def _fold(node: n.Node) -> Any:
    """The value of a constant expression of numbers (``3*10**9``), a constant text or
    list as written; ``_UNKNOWN`` for anything else. Nothing big is ever made."""
    if isinstance(node, n.Const):
        return node.value
    if isinstance(node, n.Neg | n.Pos):
        inner = _fold(node.node)
        if isinstance(inner, int | float) and not isinstance(inner, bool):
            return -inner if isinstance(node, n.Neg) else inner
        return _UNKNOWN
    symbol = _INT_OPS.get(type(node))
    if symbol is not None and isinstance(node, n.BinExpr):
        left, right = _fold(node.left), _fold(node.right)
        if isinstance(left, int) and isinstance(right, int) and not isinstance(
                left, bool) and not isinstance(right, bool):
            check_binop(symbol, left, right)
            try:
                return _ARITHMETIC[symbol](left, right)
            except (ArithmeticError, ValueError):
                return _UNKNOWN
    return _UNKNOWN


def _check_node(node: n.Node) -> None:
    if isinstance(node, n.BinExpr):
        operator = _INT_OPS.get(type(node))
        left, right = _fold(node.left), _fold(node.right)
        if operator == "%" and isinstance(left, str):
            check_binop("%", left, right)
        elif operator is not None and left is not _UNKNOWN and right is not _UNKNOWN:
            check_binop(operator, left, right)
    elif isinstance(node, n.Call) and isinstance(node.node, n.Getattr):
        args = tuple(_fold(arg) for arg in node.args)
        kwargs = {str(getattr(kw, "key", "")): _fold(getattr(kw, "value", kw))
                  for kw in node.kwargs}
        if any(v is _UNKNOWN for v in (*args, *kwargs.values())):
            return
        owner = _fold(node.node.node)
        if owner is _UNKNOWN:
            # Whatever text it is called on, a width past the bound is too big.
            owner = "" if node.node.attr in ("ljust", "rjust", "center", "zfill") else None
        if owner is not None:
            check_method(owner, node.node.attr, args, kwargs)
    elif isinstance(node, n.Filter) and node.node is not None:
        args = tuple(_fold(arg) for arg in node.args)
        kwargs = {str(getattr(kw, "key", "")): _fold(getattr(kw, "value", kw))
                  for kw in node.kwargs}
        if any(v is _UNKNOWN for v in (*args, *kwargs.values())):
            return
        value = _fold(node.node)
        check_filter_call(node.name, ("" if value is _UNKNOWN else value, *args), kwargs)
