"""docs/protocol.md keeps up with the server: every registered floor scenario, every action of
each scenario, every event the server emits and every message code has its place there, and no
section speaks of a scenario or an event that is gone.

Where the names come from:

- scenarios: the registry of server/services/device/commands.py (after importing
  ``server.services.scenarios``), and every ``@scenario("name", ...)`` in the source of server/
  read with ``ast`` (a scenario registered elsewhere is found too);
- actions: the module-level ``ACTIONS`` dict of the module that holds the scenario's handler, its
  ``reads_only`` actions, and every ``action == "name"`` / ``action in ("a", "b")`` comparison in
  the handler's own source;
- events: the first argument of every ``events.publish("name", ...)`` and Socket.IO
  ``emit("name", ...)`` in the source of server/ (a literal, either side of a conditional, or a
  parameter of the function around the call, read from the literals the module passes for it);
- message codes: the keys of ``server.messages.MESSAGES``, with their sentences from
  ``server.messages.text``.

What counts as documented:

- a scenario or an event: a markdown heading that starts with ``Scenario `name``` or
  ``Event `name``` (any level, text may follow), with some text under it before the next heading;
- an action: a table row ``| `action` | ...`` in its scenario's section;
- a message code: a row ``| `code` | English | 简体中文 |`` of the table under the heading
  ``Message codes`` whose sentences are the server's.
"""
from __future__ import annotations

import ast
import inspect
import re
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "server"
PROTOCOL = ROOT / "docs" / "protocol.md"
HEADING = re.compile(r"^#{1,6}\s+(?P<kind>Scenario|Event)\s+`(?P<name>[^`]+)`", re.MULTILINE)
ROW = re.compile(r"^\|\s*`(?P<name>[^`]+)`\s*\|(?P<rest>.*)$", re.MULTILINE)


def call_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        owner = func.value.id if isinstance(func.value, ast.Name) else ""
        return f"{owner}.{func.attr}"
    return None


def names(argument: ast.expr) -> set[str]:
    """The names a first argument can be: a literal, or each side of a conditional."""
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return {argument.value}
    if isinstance(argument, ast.IfExp):
        return names(argument.body) | names(argument.orelse)
    return set()


def forwarded(tree: ast.Module, call: ast.Call) -> set[str]:
    """The names a call's first argument can be when it is a parameter of the function around the
    call (``def _tell(wave, event, code): events.publish(event, ...)``): the literals the module's
    own calls of that function pass for it."""
    argument = call.args[0]
    if not isinstance(argument, ast.Name):
        return set()
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if call not in ast.walk(function):
            continue
        params = [a.arg for a in function.args.posonlyargs + function.args.args]
        if argument.id not in params:
            continue
        index, found = params.index(argument.id), set()
        for other in ast.walk(tree):
            if isinstance(other, ast.Call) and (call_name(other) or "").rpartition(".")[2] == function.name:
                if len(other.args) > index:
                    found |= names(other.args[index])
                found |= {n for k in other.keywords if k.arg == argument.id for n in names(k.value)}
        return found
    return set()


def source_names() -> tuple[dict, dict, list[str]]:
    """({scenario: file:line}, {event: file:line}, [calls whose name cannot be read])."""
    scenarios, emitted, unreadable = {}, {}, []
    for path in sorted(SERVER.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = call_name(node) or ""
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            found = names(node.args[0]) or forwarded(tree, node)
            if name.rpartition(".")[2] == "scenario":
                target = scenarios
            elif name in ("events.publish", "publish"):
                target = emitted
            elif name.endswith(".emit"):
                target = emitted  # Socket.IO's own; its forwarder passes events.publish's names on
                if not found:
                    continue
            else:
                continue
            if not found:
                unreadable.append(f"{name}(...) at {where}")
            for one in found:
                target.setdefault(one, where)
    return scenarios, emitted, unreadable


def registered_actions() -> tuple[dict[str, dict[str, str]], list[str]]:
    """({scenario: {action: where it is declared}}, [scenarios whose actions cannot be read])."""
    import server.services.scenarios  # noqa: F401  (registers every scenario)
    from server.services.device import commands

    found, unreadable = {}, []
    for name, registered in sorted(commands.scenarios().items()):
        handler = inspect.unwrap(registered.handler)
        module = sys.modules[handler.__module__]
        where = Path(inspect.getsourcefile(handler)).resolve().relative_to(ROOT)
        actions = {}
        table = getattr(module, "ACTIONS", None)
        if isinstance(table, dict):
            actions.update({action: f"{where} (ACTIONS)" for action in table if isinstance(action, str)})
        actions.update({action: f"{where} (reads_only)" for action in registered.reads_only})
        lines, first = inspect.getsourcelines(handler)
        for node in ast.walk(ast.parse(textwrap.dedent("".join(lines)))):
            if (isinstance(node, ast.Compare) and isinstance(node.left, ast.Name) and node.left.id == "action"
                    and len(node.ops) == 1 and isinstance(node.ops[0], (ast.Eq, ast.In))):
                right = node.comparators[0]
                values = right.elts if isinstance(right, (ast.Tuple, ast.List, ast.Set)) else [right]
                for value in values:
                    if isinstance(value, ast.Constant) and isinstance(value.value, str):
                        actions.setdefault(value.value, f"{where}:{first + node.lineno - 1}")
        if not actions:
            unreadable.append(f"`{name}` ({where}): put its actions in a module-level ACTIONS dict "
                              "{name: handler}, or compare `action == \"name\"` in the handler")
        found[name] = actions
    return found, unreadable


def headings(text: str) -> list[re.Match]:
    """Markdown headings, outside fenced code blocks."""
    found, fenced = [], False
    for line in re.finditer(r"^.*$", text, re.MULTILINE):
        if line.group(0).startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,6}\s", line.group(0)):
            found.append(line)
    return found


def documented() -> dict[tuple[str, str], str]:
    """{(kind, name): the text under its heading, up to the next heading}."""
    text = PROTOCOL.read_text(encoding="utf-8")
    marks = headings(text)
    sections = {}
    for n, heading in enumerate(marks):
        found = HEADING.match(heading.group(0))
        if found:
            end = marks[n + 1].start() if n + 1 < len(marks) else len(text)
            sections[(found["kind"], found["name"])] = text[heading.end():end]
    return sections


def message_rows() -> tuple[dict[str, list[str]], bool]:
    """({code: [cells after the code]} of the table under the heading ``Message codes``, whether
    that heading exists)."""
    text = PROTOCOL.read_text(encoding="utf-8")
    marks = headings(text)
    for n, heading in enumerate(marks):
        if re.match(r"#{1,6}\s+Message codes\b", heading.group(0)):
            end = marks[n + 1].start() if n + 1 < len(marks) else len(text)
            section = text[heading.end():end]
            return {row["name"]: [cell.strip() for cell in row["rest"].rstrip().rstrip("|").split("|")]
                    for row in ROW.finditer(section)}, True
    return {}, False


def sentences(code: str) -> list[str]:
    """[English, 简体中文]: what the server sends as a message's ``text``."""
    from server.messages import text
    return [text(code, "en"), text(code, "zh-CN")]


def message_row(code: str) -> str:
    return f"| `{code}` | {' | '.join(sentences(code))} |"


SCENARIOS, EVENTS, UNREADABLE = source_names()
ACTIONS, UNREADABLE_ACTIONS = registered_actions()
SECTIONS = documented()


def test_the_walk_finds_scenarios_actions_and_events():
    """A walk that silently found nothing would pass everything below."""
    assert SCENARIOS and EVENTS
    assert "snapshot" in EVENTS, sorted(EVENTS)
    assert {"picking", "packing"} <= set(ACTIONS), sorted(ACTIONS)
    assert {"scan", "get_work"} <= set(ACTIONS["picking"]), ACTIONS["picking"]
    assert {"lookup", "move"} <= set(ACTIONS.get("stock", {})), ACTIONS.get("stock")


def test_every_scenario_and_event_name_can_be_read():
    assert not UNREADABLE, ("name scenarios and events with a literal so docs/protocol.md can be "
                            "checked: " + ", ".join(UNREADABLE))


def test_every_scenario_action_can_be_read():
    assert not UNREADABLE_ACTIONS, ("the actions of these scenarios cannot be read, so docs/protocol.md "
                                    "cannot be checked:\n  " + "\n  ".join(UNREADABLE_ACTIONS))


def test_every_registered_scenario_is_found_in_the_source():
    missing = sorted(set(ACTIONS) - set(SCENARIOS))
    assert not missing, f"registered, but not with a literal @scenario(\"name\", ...) in server/: {missing}"


def test_every_scenario_has_a_section():
    every = dict(SCENARIOS, **{name: "the registry" for name in ACTIONS if name not in SCENARIOS})
    missing = [f"Scenario `{name}` (registered at {where})" for name, where in sorted(every.items())
               if not SECTIONS.get(("Scenario", name), "").strip()]
    assert not missing, ("docs/protocol.md has no section (a heading and text) for:\n  " + "\n  ".join(missing)
                         + "\nadd a heading `## Scenario `<name>`` with its steps, actions table, codes and events")


def test_every_action_has_a_table_row_in_its_scenario_section():
    missing = []
    for scenario, actions in sorted(ACTIONS.items()):
        section = SECTIONS.get(("Scenario", scenario), "")
        rows = {row["name"] for row in ROW.finditer(section)}
        missing += [f"`{scenario}/{action}` (declared in {where}): add the row | `{action}` | params | does | "
                    f"to the actions table under `## Scenario `{scenario}``"
                    for action, where in sorted(actions.items()) if action not in rows]
    assert not missing, "docs/protocol.md does not document these actions:\n  " + "\n  ".join(missing)


def test_every_event_has_a_section():
    missing = [f"Event `{name}` (emitted at {where}): add `### Event `{name}`` under `## Server events` "
               "(rooms, when, fields, a JSON example) and a row in the table of events there"
               for name, where in sorted(EVENTS.items())
               if not SECTIONS.get(("Event", name), "").strip()]
    assert not missing, "docs/protocol.md has no section (a heading and text) for:\n  " + "\n  ".join(missing)


def test_every_event_has_a_row_in_the_table_of_events():
    text = PROTOCOL.read_text(encoding="utf-8")
    start = text.find("## Server events")
    assert start >= 0, "docs/protocol.md has no `## Server events` section"
    table = text[start:text.find("\n### ", start)]
    rows = {row["name"] for row in ROW.finditer(table)}
    missing = [f"| `{name}` | rooms | when | (emitted at {where})" for name, where in sorted(EVENTS.items())
               if name not in rows]
    assert not missing, ("the table of events under `## Server events` in docs/protocol.md has no row for:\n  "
                         + "\n  ".join(missing))


def test_no_section_for_what_the_server_no_longer_has():
    known = ({("Scenario", name) for name in SCENARIOS} | {("Scenario", name) for name in ACTIONS}
             | {("Event", name) for name in EVENTS})
    stale = [f"{kind} `{name}`" for kind, name in sorted(SECTIONS) if (kind, name) not in known]
    assert not stale, f"docs/protocol.md documents what server/ does not have: {stale}"


def test_every_message_code_has_a_row_with_the_servers_sentences():
    from server.messages import MESSAGES
    rows, found = message_rows()
    assert found, "docs/protocol.md has no `## Message codes` section with a table | code | English | 简体中文 |"
    missing = [message_row(code) for code in sorted(MESSAGES) if code not in rows]
    assert not missing, ("the table under `## Message codes` in docs/protocol.md has no row for these codes "
                         "(server/messages.py); add, in order:\n" + "\n".join(missing))
    stale = [f"{message_row(code)}   (the doc has: {' | '.join(rows[code][:2])})" for code in sorted(MESSAGES)
             if rows[code][:2] != sentences(code)]
    assert not stale, ("these rows under `## Message codes` in docs/protocol.md disagree with server/messages.py; "
                       "the rows should read:\n" + "\n".join(stale))
    gone = sorted(set(rows) - set(MESSAGES))
    assert not gone, f"`## Message codes` in docs/protocol.md lists codes server/messages.py does not have: {gone}"
