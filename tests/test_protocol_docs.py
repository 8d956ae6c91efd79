"""docs/protocol.md keeps up with the server: every registered floor scenario and every event the
server emits has a section there, and no section speaks of one that is gone.

Scenarios and events are read from the source of server/ with ``ast``, wherever its modules live:
a scenario is a decorator ``@scenario("name", ...)``; an event is the first argument of
``events.publish("name", ...)`` or of a Socket.IO ``emit("name", ...)``.

A section is a markdown heading that starts with ``Scenario `name``` or ``Event `name``` (any
level, text may follow), with some text under it before the next heading.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "server"
PROTOCOL = ROOT / "docs" / "protocol.md"
HEADING = re.compile(r"^#{1,6}\s+(?P<kind>Scenario|Event)\s+`(?P<name>[^`]+)`", re.MULTILINE)


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
            found = names(node.args[0])
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


def documented() -> dict[tuple[str, str], str]:
    """{(kind, name): the text under its heading}."""
    text = PROTOCOL.read_text(encoding="utf-8")
    headings = list(re.finditer(r"^#{1,6}\s.*$", text, re.MULTILINE))
    sections = {}
    for n, heading in enumerate(headings):
        found = HEADING.match(heading.group(0))
        if found:
            end = headings[n + 1].start() if n + 1 < len(headings) else len(text)
            sections[(found["kind"], found["name"])] = text[heading.end():end]
    return sections


SCENARIOS, EVENTS, UNREADABLE = source_names()
SECTIONS = documented()


def test_the_walk_finds_scenarios_and_events():
    """A walk that silently found nothing would pass everything below."""
    assert SCENARIOS and EVENTS
    assert "snapshot" in EVENTS, sorted(EVENTS)


def test_every_scenario_and_event_name_can_be_read():
    assert not UNREADABLE, ("name scenarios and events with a literal so docs/protocol.md can be "
                            "checked: " + ", ".join(UNREADABLE))


def test_every_scenario_has_a_section():
    missing = [f"Scenario `{name}` (registered at {where})" for name, where in sorted(SCENARIOS.items())
               if not SECTIONS.get(("Scenario", name), "").strip()]
    assert not missing, "docs/protocol.md has no section (a heading and text) for:\n  " + "\n  ".join(missing)


def test_every_event_has_a_section():
    missing = [f"Event `{name}` (emitted at {where})" for name, where in sorted(EVENTS.items())
               if not SECTIONS.get(("Event", name), "").strip()]
    assert not missing, "docs/protocol.md has no section (a heading and text) for:\n  " + "\n  ".join(missing)


def test_no_section_for_what_the_server_no_longer_has():
    known = {("Scenario", name) for name in SCENARIOS} | {("Event", name) for name in EVENTS}
    stale = [f"{kind} `{name}`" for kind, name in sorted(SECTIONS) if (kind, name) not in known]
    assert not stale, f"docs/protocol.md documents what server/ does not have: {stale}"
