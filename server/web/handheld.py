"""The picker's handheld app (handheld/ at the top of the project), served at /handheld/.

Static ES modules with no build step; the browser libraries it imports come from
/static/vendor, so nothing loads from the internet."""
from __future__ import annotations

from pathlib import Path

from flask import redirect, send_from_directory

from server.guard import public
from server.web import web

HANDHELD = Path(__file__).resolve().parent.parent.parent / "handheld"


@web.get("/handheld")
@public
def handheld_root():
    return redirect("/handheld/")


@web.get("/handheld/")
@public
def handheld_index():
    return send_from_directory(HANDHELD, "index.html", max_age=0)


@web.get("/handheld/<path:name>")
@public
def handheld_file(name):
    return send_from_directory(HANDHELD, name, max_age=0)
