"""The house rules of server/ (DESIGN section 3), read from the source with ``ast``:

- no circle among the modules' imports;
- services/ in layers: scenarios -> device -> nouns -> models and the plumbing below them; a
  module imports only from its own layer or below;
- no import inside a function in services/, where one would only dodge a circle;
- a module of services/ over 450 lines says at its top why it is one module.

Each failure names the file and line of the import that breaks the rule.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "server"
LONG_MODULE = 450

# the layer of a module of server/ by its dotted name; outside services/, everything below the
# nouns (models, db, events, messages ...) is layer 0, and the thin shells above them (api,
# realtime, web, cli, app) are the top
TOP = 4
SHELLS = ("server.api", "server.realtime", "server.web", "server.cli", "server.app", "server.health",
          "server.demo_banner", "server.guard", "server.jobs")


def layer_of(module: str) -> int:
    if module.startswith("server.services.scenarios"):
        return 3
    if module.startswith("server.services.device"):
        return 2
    if module.startswith("server.services"):
        return 1
    if module.startswith(SHELLS):
        return TOP
    return 0


LAYER_NAMES = {0: "models and plumbing", 1: "nouns", 2: "device frame", 3: "scenarios", TOP: "shells"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(SERVER.rglob("*.py"))}


def resolve(name: str) -> str | None:
    """The module of server/ an imported name lives in (a package's submodule when it is one)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports(module: str, top_level_only: bool):
    """(line, imported module of server/, inside a function) for each import of ``module``."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []

    def visit(node, in_function: bool):
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    target = resolve(alias.name)
                    if target:
                        found.append((child.lineno, target, in_function))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[:len(package.split(".")) - child.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                for alias in child.names:
                    target = resolve(f"{base}.{alias.name}") or resolve(base)
                    if target:
                        found.append((child.lineno, target, in_function))
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                continue
            visit(child, nested)

    visit(tree, False)
    # a blueprint's module takes the blueprint from its own package, which imports the module
    # last (Flask's pattern): the package is being set up, so that is no circle
    return [(line, target, inside) for line, target, inside in found
            if target != module and not module.startswith(target + ".") and not (top_level_only and inside)]


def _is_type_checking(test) -> bool:
    return isinstance(test, ast.Name) and test.id == "TYPE_CHECKING" or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def where(module: str, line: int) -> str:
    return f"{MODULES[module].relative_to(ROOT)}:{line}"


def test_no_circle_among_the_modules_of_server():
    graph = {module: imports(module, top_level_only=True) for module in MODULES}
    circles, state = [], {}

    def walk(module, trail):
        state[module] = "open"
        for line, target, _ in graph[module]:
            if state.get(target) == "open":
                start = [m for m, _ in trail].index(target) if target in [m for m, _ in trail] else 0
                loop = trail[start:] + [(module, line)]
                circles.append(" -> ".join(where(m, ln) for m, ln in loop) + f" -> {target}")
            elif target not in state:
                walk(target, trail + [(module, line)])
        state[module] = "done"

    for module in MODULES:
        if module not in state:
            walk(module, [])
    assert circles == [], "import circles:\n" + "\n".join(circles)


def test_services_import_only_their_own_layer_or_below():
    upward = []
    for module in MODULES:
        for line, target, _ in imports(module, top_level_only=False):
            if layer_of(target) > layer_of(module):
                upward.append(f"{where(module, line)}: {LAYER_NAMES[layer_of(module)]} imports "
                              f"{target} ({LAYER_NAMES[layer_of(target)]})")
    assert upward == [], "imports from a higher layer:\n" + "\n".join(upward)


def test_no_import_inside_a_function_in_services():
    inside = [f"{where(module, line)}: imports {target} inside a function"
              for module in MODULES if module.startswith("server.services") or module == "server.metrics"
              for line, target, in_function in imports(module, top_level_only=False) if in_function]
    assert inside == [], "\n".join(inside)


def test_a_long_module_of_services_says_why():
    unexplained = []
    for module, path in MODULES.items():
        if not module.startswith("server.services"):
            continue
        lines = path.read_text().count("\n")
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        if lines > LONG_MODULE and "one module" not in doc:
            unexplained.append(f"{path.relative_to(ROOT)}: {lines} lines, and its docstring does not say why it"
                               " is one module (a sentence with 'one module')")
    assert unexplained == [], "\n".join(unexplained)


def test_the_walk_finds_what_it_should():
    """The walk itself: relative and package imports resolve, and a known import is seen."""
    assert layer_of("server.services.scenarios.picking") == 3
    assert layer_of("server.services.device.commands") == 2
    assert layer_of("server.services.stock.inventory") == 1
    assert layer_of("server.models") == 0
    targets = {target for _, target, _ in imports("server.services.scenarios.picking", top_level_only=True)}
    assert "server.services.device.commands" in targets
    assert "server.models" in targets


STOCK_WRITER = SERVER / "services" / "stock" / "inventory.py"
STOCK_MODELS = ("Quant", "StockMove")
STOCK_SQL = re.compile(r'\b(UPDATE\s+"?quant"?|INSERT\s+INTO\s+"?(quant|stock_move)"?'
                       r'|DELETE\s+FROM\s+"?(quant|stock_move)"?)\b', re.IGNORECASE)


def stock_writes(path: Path) -> list[str]:
    """Places in one file that change stock: a write through the Quant or StockMove model, a
    statement written out against their tables, or rows handed to ``insert_rows`` for them."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if (isinstance(owner, ast.Name) and owner.id in STOCK_MODELS
                    and node.func.attr in ("update", "insert", "insert_many", "create", "delete", "get_or_create",
                                           "replace", "delete_instance")):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {owner.id}.{node.func.attr}")
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "insert_rows"
                and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id in STOCK_MODELS):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: insert_rows({node.args[0].id}, ...)")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and STOCK_SQL.search(node.value):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:50]!r}")
    return found


def test_only_the_inventory_changes_stock():
    """DESIGN section 3: every change of stock is a ledger line written by the inventory service."""
    writes = [place for path in MODULES.values() if path != STOCK_WRITER for place in stock_writes(path)]
    assert writes == [], "stock changed outside services/stock/inventory.py:\n" + "\n".join(writes)
    assert stock_writes(STOCK_WRITER), "the walk finds the inventory's own writes"
