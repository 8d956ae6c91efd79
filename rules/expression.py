"""CEL conditions: compiled once when the file is read, checked against sample orders, evaluated
against an OrderContext."""

import difflib
import json
import math
import re

import cel
import yaml

from .order import EMPTY_LINE, EMPTY_ORDER, SAMPLE_LINE, SAMPLE_ORDER, note_references
from .problems import EvaluationError

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"[0-9][0-9A-Za-z_.]*")
_STRING_PREFIXES = {"r", "R", "b", "B", "rb", "rB", "Rb", "RB", "br", "bR", "Br", "BR"}
_SYNTAX_ERROR = re.compile(r"ERROR: <input>:(\d+):(\d+): (.*)")


class Condition:
    """A compiled CEL expression and where it was written."""

    __slots__ = ("source", "program", "file", "line", "column", "field", "references", "variables")

    def __init__(self, source, program, file, line, column, field, references):
        self.source = source
        self.program = program  # the params it names written in as constants, where CEL has a literal for them
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.references = references  # dotted field paths, in order of first mention
        self.variables = frozenset(program.variables())  # the names the program reads

    def evaluate(self, context):
        """True or False for a bound cel.Context; EvaluationError when the order does not fit."""
        try:
            result = self.program.execute(context)
        except Exception as error:  # the CEL runtime raises KeyError, TypeError, RuntimeError...
            raise EvaluationError(self, describe_error(error)) from None
        if result is not True and result is not False:
            raise EvaluationError(self, f"gave {result!r}, not true or false")
        return result

    def __repr__(self):
        return f"Condition({self.source!r} at {self.file}:{self.line})"


class Scope:
    """The variables a condition may use: `order`, the file's `params` and, for line rules, `line`."""

    def __init__(self, params, line=False):
        self.roots = {"order": SAMPLE_ORDER, "params": params}
        if line:
            self.roots["line"] = SAMPLE_LINE
        self.samples = []
        for order, sample_line in ((SAMPLE_ORDER, SAMPLE_LINE), (EMPTY_ORDER, EMPTY_LINE)):
            variables = {"order": order, "params": params}
            if line:
                variables["line"] = sample_line
            self.samples.append(cel.Context(variables))


def describe_error(error):
    if isinstance(error, KeyError):
        return f"no field {error.args[0]!r}" if error.args else "no such field"
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text.split(". ")[0].rstrip(".")


def field_references(expression):
    """Dotted identifier chains such as ('order', 'receiver', 'province') with their offsets.

    A chain stops before a method call (`order.tags.exists(...)` gives ('order', 'tags')).
    String literals and numbers are skipped.
    """
    found = []
    index = 0
    length = len(expression)
    after_dot = False
    while index < length:
        ch = expression[index]
        if ch.isspace():
            index += 1
            continue
        if ch in "\"'":
            index = _skip_string(expression, index, raw=False)
            after_dot = False
            continue
        if ch.isdigit():
            index = _NUMBER.match(expression, index).end()
            after_dot = False
            continue
        match = _IDENT.match(expression, index)
        if not match:
            after_dot = ch == "."
            index += 1
            continue
        name = match.group()
        if name in _STRING_PREFIXES and match.end() < length and expression[match.end()] in "\"'":
            index = _skip_string(expression, match.end(), raw="r" in name.lower())
            after_dot = False
            continue
        if after_dot:
            index = match.end()
            after_dot = False
            continue
        path, index = _chain(expression, name, match.end())
        if path is not None:
            found.append((path, match.start()))
        after_dot = False
    return found


def _chain(expression, root, index):
    """Follow `.name` segments after `root`; a root or segment followed by `(` is a call."""
    path = [root]
    if _next_char(expression, index) == "(":
        return None, index
    while True:
        dot = _skip_space(expression, index)
        if dot >= len(expression) or expression[dot] != ".":
            return tuple(path), index
        match = _IDENT.match(expression, _skip_space(expression, dot + 1))
        if not match:
            return tuple(path), index
        if _next_char(expression, match.end()) == "(":
            return tuple(path), match.end()
        path.append(match.group())
        index = match.end()


def _skip_space(text, index):
    while index < len(text) and text[index].isspace():
        index += 1
    return index


def _next_char(text, index):
    index = _skip_space(text, index)
    return text[index] if index < len(text) else ""


def _skip_string(text, index, raw):
    quote = text[index] * 3 if text.startswith(text[index] * 3, index) else text[index]
    index += len(quote)
    while index < len(text):
        if not raw and text[index] == "\\":
            index += 2
            continue
        if text.startswith(quote, index):
            return index + len(quote)
        index += 1
    return index


def compile_condition(source, node, field, scope):
    """Compile the CEL text of a YAML scalar; record every problem on `source`; None if broken."""
    if node is None:
        return None
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:bool":
        text = "true" if source.value(node) else "false"
    elif isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:str" and node.value.strip():
        text = node.value
    else:
        source.report(node, field, "must be a CEL expression (text)")
        return None
    try:
        program = cel.compile(text)
    except ValueError as error:
        _report_syntax(source, node, field, text, error)
        return None
    references = field_references(text)
    line, column = source.position(node, 0)
    condition = Condition(
        text.strip(), program, source.file, line, column, field,
        tuple(dict.fromkeys(".".join(path) for path, _ in references)),
    )
    note_references(condition.references)
    if not _check_references(source, node, field, references, scope):
        _check_on_samples(source, node, field, condition, scope)
    _inline_params(condition, text, references, scope.roots.get("params"))
    return condition


class Params(dict):
    """A rule file's ``params``. ``needed``: whether a compiled condition still reads them from
    its context (one that names a constant CEL has no literal for): the others have them
    written in, so that evaluating a file does not put its params into an order's context.
    Adding a variable to a context makes the next evaluation convert the whole context again
    (20 to 30 µs an order for its review, routing and carrier files)."""

    needed = False


_PARAM = re.compile(r"params\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)")
_INT64 = 2 ** 63


def cel_literal(value) -> str | None:
    """CEL text that evaluates to ``value`` (a constant from a rule file), None where CEL has none."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if -_INT64 < value < _INT64 else None
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        items = [cel_literal(item) for item in value]
        return None if None in items else "[" + ", ".join(items) + "]"
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        items = [cel_literal(item) for item in value.values()]
        return None if None in items else "{" + ", ".join(
            f"{json.dumps(key, ensure_ascii=False)}: {item}" for key, item in zip(value, items)) + "}"
    return None


def _inline_params(condition, text, references, params):
    """Give the condition a program with each ``params.name`` (or ``params``) written as its
    value; where one has no literal or the text no longer compiles (``has(params.x)``), the
    condition keeps reading them from its context and ``params.needed`` says so."""
    if not isinstance(params, Params) or "params" not in condition.variables:
        return
    inlined, left = text, False
    for path, offset in sorted(references, key=lambda found: found[1], reverse=True):
        if path[0] != "params":
            continue
        if len(path) > 1:
            match = _PARAM.match(inlined, offset)
            name, end = (match.group(1), match.end()) if match else (None, offset)
            literal = cel_literal(params[name]) if name in params else None
        else:
            end, literal = offset + len("params"), cel_literal(dict(params))
        if literal is None:
            left = True
            continue
        inlined = inlined[:offset] + "(" + literal + ")" + inlined[end:]
    try:
        program = cel.compile(inlined)
    except ValueError:
        program = None
    if program is None or left or "params" in program.variables():
        params.needed = True
        return
    condition.program = program
    condition.variables = frozenset(program.variables())


def _report_syntax(source, node, field, text, error):
    lines = text.split("\n")
    found = False
    for match in _SYNTAX_ERROR.finditer(str(error)):
        line_no, column, message = int(match.group(1)), int(match.group(2)), _plain(match.group(3))
        offset = sum(len(previous) + 1 for previous in lines[: line_no - 1]) + column - 1
        line, col = source.position(node, offset)
        source.report(node, field, f"CEL syntax: {message}", line=line, column=col)
        found = True
    if not found:
        source.report(node, field, f"CEL: {describe_error(error)}")


def _plain(message):
    """Parser messages without the long list of tokens the grammar expected."""
    message = message.removeprefix("Syntax error: ")
    if message.startswith("mismatched input '<EOF>'"):
        return "the expression ends too early"
    return re.sub(r" expecting \{[^}]{40,}\}", "", message)


def _check_references(source, node, field, references, scope):
    """Report chains that name a field the order (or params, or line) does not have."""
    bad = False
    for path, offset in references:
        root = path[0]
        if root not in scope.roots:
            continue
        value = scope.roots[root]
        for depth, name in enumerate(path[1:], start=1):
            known = ".".join(path[:depth])
            if isinstance(value, dict):
                if name in value:
                    value = value[name]
                    continue
                close = difflib.get_close_matches(name, list(value), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                reason = f"unknown field '{known}.{name}'{hint}"
            elif isinstance(value, list):
                reason = (f"'{known}' is a list and has no field '{name}' "
                          f"(use {known}.exists(x, x.{name} ...))")
            else:
                reason = f"'{known}' is a {type(value).__name__} and has no field '{name}'"
            line, column = source.position(node, offset)
            source.report(node, field, reason, line=line, column=column)
            bad = True
            break
    return bad


def _check_on_samples(source, node, field, condition, scope):
    """Evaluate against a fully populated and an empty sample order: catches unknown names,
    type mismatches and results that are not true or false."""
    for context in scope.samples:
        try:
            condition.evaluate(context)
        except EvaluationError as error:
            source.report(node, field, f"fails on a sample order: {error.message}",
                          line=condition.line, column=condition.column)
            return


_MISSING = "<missing>"


def reference_values(condition, variables):
    """The current value of each field path the condition mentions, e.g. for `explain`."""
    values = {}
    for dotted in condition.references:
        path = dotted.split(".")
        if path[0] not in variables:
            continue
        value = variables[path[0]]
        for name in path[1:]:
            value = value.get(name, _MISSING) if isinstance(value, dict) else _MISSING
        values[dotted] = value
    return values
