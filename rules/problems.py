"""What is wrong with a rule file, and where."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One error in a rule file: 1-based line and column, the YAML path of the field, the reason."""

    file: str
    line: int
    column: int
    field: str
    reason: str

    def __str__(self):
        return f"{self.file}:{self.line}: {self.field or '(file)'}: {self.reason}"


class RuleError(Exception):
    """A rule file (or several) could not be loaded; `problems` lists every error found."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self):
        return "\n".join(str(problem) for problem in self.problems)


class EvaluationError(Exception):
    """A loaded rule could not be evaluated against one order (a field missing or of the wrong type)."""

    def __init__(self, condition, message):
        self.condition = condition
        self.message = message
        super().__init__(f"{condition.file}:{condition.line}: {condition.field}: {message}")
