"""Reading one rule file: its YAML tree with the position of every node, and the problems found.

The file is composed (not loaded) so that each value keeps the line and column it came from;
readers below turn nodes into Python values and record a Problem for each that is wrong,
so that one pass reports every error of the file.
"""

import yaml
from yaml.constructor import SafeConstructor

from .problems import Problem

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"


def _kind_of(node):
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag == _NULL:
        return "empty"
    return f"{node.value!r}"


class Source:
    """A rule file's text, its YAML tree (`root`, None when the YAML is broken) and `problems`."""

    def __init__(self, file, text):
        self.file = file
        self.text = text
        self.problems = []
        self.root = None
        self._constructor = SafeConstructor()
        try:
            self.root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            reason = f"YAML: {error.problem or error.context}"
            if error.context and error.problem:
                reason = f"YAML: {error.context}, {error.problem}"
            self.problems.append(Problem(file, mark.line + 1, mark.column + 1, "", reason))
        except yaml.YAMLError as error:
            self.problems.append(Problem(file, 1, 1, "", f"YAML: {error}"))
        else:
            if self.root is None:
                self.problems.append(Problem(file, 1, 1, "", "the file is empty"))

    # -- recording -----------------------------------------------------------------------

    def report(self, node, field, reason, line=None, column=None):
        if line is None:
            line, column = node.start_mark.line + 1, node.start_mark.column + 1
        self.problems.append(Problem(self.file, line, column or 1, field, reason))

    # -- structure -----------------------------------------------------------------------

    def mapping(self, node, field, required=(), optional=(), any_key=False):
        """The mapping's value nodes by key; a problem for each missing, unknown or repeated key."""
        if node is None:
            return None
        if not isinstance(node, yaml.MappingNode):
            self.report(node, field, f"must be a mapping, not {_kind_of(node)}")
            return None
        allowed = set(required) | set(optional)
        items = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            where = f"{field}.{key}" if field else str(key)
            if key in items:
                self.report(key_node, where, "repeated key (the later one would silently win)")
            elif key not in allowed and not any_key:
                expected = ", ".join(sorted(allowed))
                self.report(key_node, where, f"unknown field (expected one of: {expected})")
            else:
                items[key] = value_node
        for key in required:
            if key not in items:
                self.report(node, field or "(file)", f"missing field '{key}'")
        return items

    def sequence(self, node, field, allow_empty=False):
        if node is None:
            return None
        if not isinstance(node, yaml.SequenceNode):
            self.report(node, field, f"must be a list, not {_kind_of(node)}")
            return None
        if not node.value and not allow_empty:
            self.report(node, field, "must not be empty")
        return node.value

    # -- scalars -------------------------------------------------------------------------

    def value(self, node):
        """Any node as a plain Python value."""
        return self._constructor.construct_object(node, deep=True)

    def string(self, node, field):
        if node is None:
            return None
        if not isinstance(node, yaml.ScalarNode) or node.tag != _STR or not node.value.strip():
            self.report(node, field, f"must be a non-empty text, not {_kind_of(node)}")
            return None
        return node.value

    def integer(self, node, field, minimum=None):
        if node is None:
            return None
        if not isinstance(node, yaml.ScalarNode) or node.tag != _INT:
            self.report(node, field, f"must be a whole number, not {_kind_of(node)}")
            return None
        number = self.value(node)
        if minimum is not None and number < minimum:
            self.report(node, field, f"must be at least {minimum}, not {number}")
            return None
        return number

    def boolean(self, node, field):
        if node is None:
            return None
        if not isinstance(node, yaml.ScalarNode) or node.tag != _BOOL:
            self.report(node, field, f"must be true or false, not {_kind_of(node)}")
            return None
        return self.value(node)

    def choice(self, node, field, choices):
        if node is None:
            return None
        if not isinstance(node, yaml.ScalarNode) or node.value not in choices:
            self.report(node, field, f"must be one of {', '.join(choices)}, not {_kind_of(node)}")
            return None
        return node.value

    def strings(self, node, field):
        """A non-empty list of non-empty texts."""
        if node is None:
            return None
        items = self.sequence(node, field)
        if items is None:
            return None
        texts = [self.string(item, f"{field}[{index}]") for index, item in enumerate(items)]
        return None if None in texts else texts

    def label(self, node, field, required_languages=()):
        """A name: either one text or `{zh: ..., en: ...}`; returns (zh, en)."""
        if node is None:
            return (None, None)
        if isinstance(node, yaml.ScalarNode) and not required_languages:
            text = self.string(node, field)
            return (text, text)
        items = self.mapping(node, field, required=required_languages, optional=("zh", "en"))
        if items is None:
            return (None, None)
        texts = {lang: self.string(item, f"{field}.{lang}") for lang, item in items.items()}
        zh = texts.get("zh") or texts.get("en")
        return (zh, texts.get("en") or zh)

    # -- positions inside a scalar ---------------------------------------------------------

    def position(self, node, offset):
        """File line and column (1-based) of character `offset` of a scalar's value.

        Block, folded and quoted scalars change only whitespace (and quote escapes) between the
        file and the value, so the n-th visible character of the value is the n-th visible
        character of the scalar's text in the file.
        """
        value = node.value
        visible_before = sum(1 for ch in value[:offset] if not ch.isspace())
        index = node.start_mark.index
        end = node.end_mark.index
        if node.style in ("|", ">"):
            index = self.text.index("\n", index) + 1
        elif node.style in ("'", '"'):
            index += 1
        seen = 0
        last_visible = index - 1
        while index < end:
            ch = self.text[index]
            if not ch.isspace():
                if seen == visible_before:
                    return self._line_column(index)
                seen += 1
                index += self._escape_length(node.style, index) - 1
                last_visible = index
            index += 1
        return self._line_column(last_visible + 1)

    _ESCAPE_LENGTHS = {"x": 4, "u": 6, "U": 10}

    def _escape_length(self, style, index):
        """How many characters of the file stand for the one value character at `index`."""
        if style == "'" and self.text.startswith("''", index):
            return 2
        if style == '"' and self.text[index] == "\\" and index + 1 < len(self.text):
            return self._ESCAPE_LENGTHS.get(self.text[index + 1], 2)
        return 1

    def _line_column(self, index):
        line_start = self.text.rfind("\n", 0, index) + 1
        return self.text.count("\n", 0, index) + 1, index - line_start + 1
