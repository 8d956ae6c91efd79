"""docs/ agrees with the server on what a third party types in:

- every setting of server/config.py has a row in docs/settings.md, with its default;
- every REST call the docs name (``POST /api/v1/...`` in the text, ``curl ... /api/v1/...`` in a
  code block) is a route of the app, with that method;
- every complete layout in docs/layout.md (its ``yaml`` and ``json`` code blocks) loads with
  server/layoutspec.py, and the example of a refused layout is refused with the problems shown.

docs/protocol.md's scenarios, actions, events and message codes: tests/test_protocol_docs.py.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound

from server.config import SETTINGS
from server.layoutspec import LayoutError, load_layout

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
ROW = re.compile(r"^\|\s*`(?P<name>[^`]+)`\s*\|(?P<rest>.*)$", re.MULTILINE)
FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL)
METHODS = "GET|POST|PUT|PATCH|DELETE"
# `POST /api/v1/waves/<wave>/release` in a doc's text (a line break may fall after the method)
SAID = re.compile(rf"\b(?P<method>{METHODS})\s+`?(?P<path>/api/v1/[^\s`\"'?)#,;]*)")
API_PATH = re.compile(r"(/api/v1/[^\s\"'?#)]*)")


# --- settings -------------------------------------------------------------------------------------

def shown(default) -> str:
    """How docs/settings.md writes a default."""
    if isinstance(default, bool):
        return "true" if default else "false"
    if default == "":
        return "empty"
    return str(default)


def settings_rows() -> dict[str, list[str]]:
    text = (DOCS / "settings.md").read_text(encoding="utf-8")
    return {row["name"]: [cell.strip() for cell in row["rest"].rstrip().rstrip("|").split("|")]
            for row in ROW.finditer(text)}


def test_every_setting_has_a_row_with_its_default():
    rows = settings_rows()
    missing = [f"| `{s.name}` | `{shown(s.default)}` | {s.help} |" for s in SETTINGS if s.name not in rows]
    assert not missing, ("docs/settings.md has no row for these settings of server/config.py; add to its table "
                         "(setting, default, what it does):\n" + "\n".join(missing))
    wrong = [f"`{s.name}`: the doc says {rows[s.name][0]}, server/config.py has `{shown(s.default)}`"
             for s in SETTINGS if rows[s.name][0].strip("`") != shown(s.default)]
    assert not wrong, "docs/settings.md shows another default than server/config.py:\n  " + "\n  ".join(wrong)


def test_no_row_for_a_setting_that_is_gone():
    known = {s.name for s in SETTINGS}
    gone = sorted(set(settings_rows()) - known)
    assert not gone, f"docs/settings.md lists settings server/config.py does not have: {gone}"


# --- REST calls -----------------------------------------------------------------------------------

def concrete(path: str) -> str:
    """A path as a request sends it: a placeholder (`<job>`, `{code}`, `$JOB`) stands for `1`."""
    return re.sub(r"<[^>]+>|\{[^}]+\}|\$\{?\w+\}?", "1", path.rstrip(".:"))


def commands(body: str) -> list[str]:
    """The shell commands of a code block, continued lines joined."""
    return [c for c in body.replace("\\\n", " ").splitlines() if c.strip()]


def calls_in_docs() -> list[tuple[str, str, str]]:
    """(where, method, path) of every REST call the docs name."""
    found = []
    for doc in sorted(DOCS.glob("*.md")):
        text = doc.read_text(encoding="utf-8")
        name = doc.relative_to(ROOT)
        for said in SAID.finditer(text):
            line = text.count("\n", 0, said.start()) + 1
            found.append((f"{name}:{line}", said["method"], said["path"]))
        for fence in FENCE.finditer(text):
            first = text.count("\n", 0, fence.start("body")) + 1
            for command in commands(fence["body"]):
                if not re.search(r"\bcurl\b", command):
                    continue
                path = API_PATH.search(command)
                if path is None:
                    continue
                method = re.search(rf"(?:-X|--request)\s+({METHODS})\b", command)
                data = re.search(r"\s(-d|--data\S*|-F|--form|--json)\s", command)
                verb = method.group(1) if method else ("POST" if data else "GET")
                line = first + next((n for n, raw in enumerate(fence["body"].splitlines())
                                     if path.group(1) in raw), 0)
                found.append((f"{name}:{line}", verb, path.group(1)))
    return found


@pytest.fixture(scope="module")
def url_map(tmp_path_factory):
    from server.app import create_app
    folder = tmp_path_factory.mktemp("docs-app")
    app = create_app({"DATABASE_URL": f"sqlite:///{folder / 'wavefloor.db'}", "INSTANCE_DIR": str(folder),
                      "SECRET_KEY": "docs", "PRINT_WORKER": False})
    return app.url_map.bind("localhost")


def test_the_docs_name_rest_calls():
    where = {w.split(":")[0] for w, _, _ in calls_in_docs()}
    assert "docs/api.md" in where, "no REST call found in docs/api.md: the scan of the docs reads nothing"


def test_every_rest_call_in_the_docs_is_a_route(url_map):
    wrong = []
    for where, method, path in calls_in_docs():
        try:
            url_map.match(concrete(path), method=method)
        except MethodNotAllowed:
            wrong.append(f"{where}: {method} {path}: the server has this path, but not for {method}")
        except NotFound:
            wrong.append(f"{where}: {method} {path}: the server has no such path (see /api/v1/openapi.json)")
    assert not wrong, "the docs name REST calls the server does not answer:\n  " + "\n  ".join(wrong)


# --- layouts --------------------------------------------------------------------------------------

def layout_blocks() -> list[tuple[int, str, str]]:
    """(line, language, text) of every ``yaml`` and ``json`` code block of docs/layout.md."""
    text = (DOCS / "layout.md").read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 1, m["info"].strip(), m["body"])
            for m in FENCE.finditer(text) if m["info"].strip() in ("yaml", "json")]


def test_layout_doc_has_examples():
    languages = {language for _, language, _ in layout_blocks()}
    assert languages == {"yaml", "json"}, f"docs/layout.md should show a YAML and a JSON layout, has {languages}"


def test_every_layout_example_loads(tmp_path):
    wrong = []
    for line, language, body in layout_blocks():
        path = tmp_path / f"example-{line}.{language}"
        path.write_text(body, encoding="utf-8")
        try:
            layout = load_layout(path)
        except LayoutError as error:
            wrong.append(f"docs/layout.md:{line} ({language}): {error}")
            continue
        if not layout.warehouse:
            wrong.append(f"docs/layout.md:{line} ({language}): names no warehouse; `wavefloor import layout` needs one")
    assert not wrong, "layouts in docs/layout.md that server/layoutspec.py refuses:\n  " + "\n  ".join(wrong)


def test_the_yaml_and_json_examples_are_the_same_layout(tmp_path):
    loaded = {}
    for line, language, body in layout_blocks():
        path = tmp_path / f"example-{line}.{language}"
        path.write_text(body, encoding="utf-8")
        loaded.setdefault(language, load_layout(path))
    assert loaded["yaml"] == loaded["json"], "docs/layout.md: the JSON example should be the YAML one, written in JSON"


def test_the_refused_example_gives_the_problems_the_doc_shows(tmp_path):
    """docs/layout.md shows a broken file (a ```` ```yaml broken ```` block) and, in the block after
    it, what the import answers: each problem line shown is what the loader says."""
    text = (DOCS / "layout.md").read_text(encoding="utf-8")
    blocks = [m for m in FENCE.finditer(text)]
    start = next((n for n, m in enumerate(blocks) if m["info"].strip() == "yaml broken"), None)
    assert start is not None, "docs/layout.md should show a broken layout in a ```yaml broken block"
    path = tmp_path / "bad.yaml"
    path.write_text(blocks[start]["body"], encoding="utf-8")
    with pytest.raises(LayoutError) as caught:
        load_layout(path)
    said = [line.strip() for line in blocks[start + 1]["body"].splitlines() if line.strip().startswith("bad.yaml:")]
    assert said, "the block after the broken layout should list the problems, one `bad.yaml:<line>: ...` a line"
    assert said == [str(p).replace(str(path), "bad.yaml") for p in caught.value.problems]


# --- links between the docs -----------------------------------------------------------------------

def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(doc: Path) -> set[str]:
    text = FENCE.sub("", doc.read_text(encoding="utf-8"))
    found, seen = set(), {}
    for heading in re.findall(r"^#{1,6}\s+(.*)$", text, re.MULTILINE):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        found.add(base if n == 0 else f"{base}-{n}")
    return found


def test_every_link_between_the_docs_lands_on_a_heading():
    wrong = []
    for doc in sorted(DOCS.glob("*.md")):
        text = FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), doc.read_text(encoding="utf-8"))
        for link in re.finditer(r"\]\((?P<file>[\w./-]*\.md)?(?:#(?P<anchor>[^)\s]+))?\)", text):
            if not link["file"] and not link["anchor"]:
                continue
            target = (doc.parent / link["file"]) if link["file"] else doc
            line = text.count("\n", 0, link.start()) + 1
            if not target.exists():
                wrong.append(f"{doc.relative_to(ROOT)}:{line}: {link.group(0)}: no file {link['file']}")
            elif link["anchor"] and link["anchor"] not in anchors(target):
                wrong.append(f"{doc.relative_to(ROOT)}:{line}: {link.group(0)}: no heading #{link['anchor']} "
                             f"in {target.relative_to(ROOT)}")
    assert not wrong, "links in docs/ that lead nowhere:\n  " + "\n  ".join(wrong)
