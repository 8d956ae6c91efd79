"""Every code the server can send has a sentence in zh-CN and English (server/messages.py).

The codes are read from the source of server/ with ``ast``, wherever its modules live:

- ``code = "..."`` in the body of a class that derives from ``DomainError``;
- a payload's ``"code"`` or ``"event"`` field (``{"code": ...}``) and ``self.code = ...``;
- ``messages.text(code, lang)``;
- any function of server/ that passes one of its parameters on to one of the above (``envelope``,
  ``refusal``, ``Refused``, ``at_station``'s ``no_station``, a scenario's ``answer`` and
  ``changed`` ...): a literal given for that parameter at a call.

A value is read through a conditional (``"a" if x else "b"``), ``x or "a"``, a dict's
``.get(key, default)`` and a local variable's assignments. Each failure names the code and the
file:line it was found at.
"""
from __future__ import annotations

import ast
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from server import messages

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "server"
# payload fields whose value is a message code a client shows or sounds
CODE_FIELDS = ("code", "event")
CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True, order=True)
class Found:
    code: str
    path: str
    line: int
    shape: str  # "class", "field" or "call"

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


class Module:
    def __init__(self, path: Path):
        self.path = path
        self.name = module_name(path)
        self.tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        self.functions: dict[str, ast.FunctionDef | ast.ClassDef] = {}
        for node in self.tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.functions[node.name] = node
        self.imported: dict[str, tuple[str, str]] = {}  # local name -> (module, name)
        self.modules: dict[str, str] = {}  # local name -> module
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom):
                base = self._absolute(node)
                for alias in node.names:
                    local = alias.asname or alias.name
                    self.imported[local] = (base, alias.name)
                    self.modules[local] = f"{base}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.modules[alias.asname] = alias.name

    def _absolute(self, node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        package = self.name.split(".")
        if self.path.name != "__init__.py":
            package.pop()
        package = package[:len(package) - (node.level - 1)]
        return ".".join(package + ([node.module] if node.module else []))

    def found(self, code: str, node: ast.AST, shape: str) -> Found:
        return Found(code, str(self.path.relative_to(ROOT)), node.lineno, shape)


def load_modules() -> dict[str, Module]:
    return {m.name: m for m in map(Module, sorted(SERVER.rglob("*.py")))}


def signature(node: ast.FunctionDef | ast.ClassDef) -> ast.arguments | None:
    """A function's arguments, or those of a class's ``__init__`` (calling the class)."""
    if isinstance(node, ast.ClassDef):
        init = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
        return init.args if init is not None else None
    return node.args


def parameters(node: ast.FunctionDef | ast.ClassDef) -> list[str]:
    """Positional parameter names, as a call fills them (a class's without ``self``)."""
    args = signature(node)
    names = [a.arg for a in args.posonlyargs + args.args] if args else []
    return names[1:] if isinstance(node, ast.ClassDef) else names


def all_parameters(node: ast.FunctionDef | ast.ClassDef) -> set[str]:
    args = signature(node)
    return {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs} - {"self"} if args else set()


class Source:
    """server/ read once: which parameters of which functions carry a message code."""

    def __init__(self):
        self.modules = load_modules()
        by_name = defaultdict(list)
        for module in self.modules.values():
            for name in module.functions:
                by_name[name].append(module)
        self.by_name = by_name
        # (module, function) -> names of its parameters that carry a code
        self.carriers: dict[tuple[str, str], set[str]] = defaultdict(set)
        messages_module = module_name(SERVER / "messages.py")
        self.carriers[(messages_module, "text")].add("code")
        self._find_carriers()

    # --- which function a call calls --------------------------------------------------------------

    def callee(self, module: Module, call: ast.Call) -> tuple[Module, ast.AST] | None:
        func = call.func
        if isinstance(func, ast.Name):
            if func.id in module.functions:
                return module, module.functions[func.id]
            if func.id in module.imported:
                found = self._lookup(*module.imported[func.id])
                if found is not None:
                    return found
            return self._unique(func.id)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            target = module.modules.get(func.value.id)
            if target in self.modules and func.attr in self.modules[target].functions:
                return self.modules[target], self.modules[target].functions[func.attr]
            if func.value.id in module.modules:
                return self._unique(func.attr)
        return None

    def _lookup(self, module_name_: str, name: str):
        module = self.modules.get(module_name_)
        if module is not None and name in module.functions:
            return module, module.functions[name]
        return None

    def _unique(self, name: str):
        """A name defined once in server/, when an import cannot be followed (a re-export)."""
        found = self.by_name.get(name, [])
        return (found[0], found[0].functions[name]) if len(found) == 1 else None

    def code_arguments(self, module: Module, call: ast.Call) -> list[ast.expr]:
        """The arguments of ``call`` that are given for a code-carrying parameter."""
        resolved = self.callee(module, call)
        if resolved is None:
            return []
        target_module, target = resolved
        carrying = self.carriers.get((target_module.name, target.name), set())
        if not carrying:
            return []
        positional = parameters(target)
        given = [arg for name, arg in zip(positional, call.args) if name in carrying]
        return given + [kw.value for kw in call.keywords if kw.arg in carrying]

    # --- which parameters carry a code -------------------------------------------------------------

    def sinks(self, module: Module, scope: ast.AST, skip=()) -> list[tuple[ast.expr, str]]:
        """Expressions in ``scope`` whose value is sent as a message code, with their shape."""
        found = []
        for node in walk(scope, skip):
            if isinstance(node, ast.Dict):
                found += [(value, "field") for key, value in zip(node.keys, node.values)
                          if isinstance(key, ast.Constant) and key.value in CODE_FIELDS]
            elif isinstance(node, ast.Assign):
                found += [(node.value, "field") for target in node.targets
                          if isinstance(target, ast.Attribute) and target.attr == "code"
                          and isinstance(target.value, ast.Name) and target.value.id == "self"]
            elif isinstance(node, ast.Call):
                found += [(arg, "call") for arg in self.code_arguments(module, node)]
        return found

    def _find_carriers(self) -> None:
        changed = True
        while changed:
            changed = False
            for module in self.modules.values():
                for function in module.functions.values():
                    params = all_parameters(function)
                    for expr, _ in self.sinks(module, function):
                        for name in passed_names(expr) & params:
                            key = (module.name, function.name)
                            if name not in self.carriers[key]:
                                self.carriers[key].add(name)
                                changed = True

    # --- the codes ---------------------------------------------------------------------------------

    def codes(self) -> list[Found]:
        found = []
        domain_errors = self.domain_errors()
        for module in self.modules.values():
            for node in ast.walk(module.tree):
                if isinstance(node, ast.ClassDef) and node.name in domain_errors:
                    for statement in node.body:
                        value = class_code(statement)
                        if value is not None:
                            found += [module.found(code, statement, "class") for code in literals(value, {})]
            for scope, skip, own in scopes(module.tree):
                assigned = assignments(scope, own)
                for expr, shape in self.sinks(module, scope, skip):
                    found += [module.found(code, expr, shape) for code in literals(expr, assigned)]
        return sorted(set(found))

    def domain_errors(self) -> set[str]:
        """Names of the classes of server/ that derive from ``DomainError``."""
        bases = {}
        for module in self.modules.values():
            for node in ast.walk(module.tree):
                if isinstance(node, ast.ClassDef):
                    bases[node.name] = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", None)
                                        for b in node.bases}
        found = {"DomainError"}
        while True:
            more = {name for name, of in bases.items() if of & found} - found
            if not more:
                return found
            found |= more


def class_code(statement: ast.stmt) -> ast.expr | None:
    if isinstance(statement, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "code"
                                                 for t in statement.targets):
        return statement.value
    if (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
            and statement.target.id == "code" and statement.value is not None):
        return statement.value
    return None


FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def scopes(tree: ast.Module):
    """(scope, what its walk skips, what the walk for its variables skips): each function of the
    module, then the module's statements outside its functions, whose classes' attributes are
    not its variables."""
    for node in ast.walk(tree):
        if isinstance(node, FUNCTIONS):
            yield node, (), ()
    yield tree, FUNCTIONS, FUNCTIONS + (ast.ClassDef,)


def passed_names(expr: ast.expr) -> set[str]:
    """The variables whose value ``expr`` passes on unchanged (``code``, ``a if x else b``, ``a or b``)."""
    if isinstance(expr, ast.Name):
        return {expr.id}
    if isinstance(expr, ast.IfExp):
        return passed_names(expr.body) | passed_names(expr.orelse)
    if isinstance(expr, ast.BoolOp):
        return set().union(*(passed_names(v) for v in expr.values))
    return set()


def assignments(scope: ast.AST, skip=()) -> dict[str, list[ast.expr]]:
    """What each variable of a scope is assigned."""
    found = defaultdict(list)
    for node in walk(scope, skip):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id].append(node.value)
        elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and isinstance(node.target, ast.Name) and node.value:
            found[node.target.id].append(node.value)
    return found


def walk(node: ast.AST, skip=()):
    """``ast.walk`` that does not go into nodes of the types ``skip``."""
    todo = [node]
    while todo:
        node = todo.pop()
        yield node
        todo.extend(child for child in ast.iter_child_nodes(node) if not isinstance(child, skip))


def literals(expr: ast.expr, assigned: dict[str, list[ast.expr]], seen=frozenset()) -> set[str]:
    """The strings ``expr`` can be, as far as the source says without running it."""
    if isinstance(expr, ast.Constant):
        return {expr.value} if isinstance(expr.value, str) else set()
    if isinstance(expr, ast.IfExp):
        return literals(expr.body, assigned, seen) | literals(expr.orelse, assigned, seen)
    if isinstance(expr, ast.BoolOp):
        return set().union(*(literals(v, assigned, seen) for v in expr.values))
    if isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Dict):
        return set().union(*(literals(v, assigned, seen) for v in expr.value.values))
    if (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr == "get"
            and isinstance(expr.func.value, ast.Dict)):
        found = set().union(*(literals(v, assigned, seen) for v in expr.func.value.values))
        return found | (literals(expr.args[1], assigned, seen) if len(expr.args) > 1 else set())
    if isinstance(expr, ast.Name) and expr.id not in seen:
        return set().union(set(), *(literals(v, assigned, seen | {expr.id}) for v in assigned.get(expr.id, [])))
    return set()


SOURCE = Source()
CODES = SOURCE.codes()


def test_the_walk_finds_codes_of_every_shape():
    """A walk that silently found nothing would pass everything below."""
    shapes = {f.shape for f in CODES}
    assert shapes == {"class", "field", "call"}, shapes
    assert len({f.code for f in CODES}) > 60
    carriers = {name for (_, name), params in SOURCE.carriers.items() if params}
    assert {"envelope", "refusal", "Refused", "at_station", "text"} <= carriers, (
        f"the walk no longer follows the code through these helpers; it found {sorted(carriers)}")


def test_every_code_has_a_sentence_in_each_language():
    missing = [f"{f.code} ({f.where})" for f in CODES if f.code not in messages.MESSAGES]
    assert not missing, "codes without a sentence in server/messages.py:\n  " + "\n  ".join(missing)
    empty = []
    for code in sorted({f.code for f in CODES}):
        en, zh = messages.text(code, "en"), messages.text(code, "zh-CN")
        if (en, zh) != messages.MESSAGES[code] or not en.strip() or not zh.strip():
            empty.append(code)
        elif CJK.search(en) or not CJK.search(zh):
            empty.append(f"{code} (English and Chinese swapped?)")
    assert not empty, f"codes with an empty or misplaced sentence: {empty}"


def test_a_missing_code_is_told_from_a_present_one():
    assert "no_such_code" not in messages.MESSAGES
    assert messages.text("no_such_code", "en") == messages.text("error", "en")
    assert messages.text("wrong_location", "en") != messages.text("error", "en")
