"""The packing station's page (打包台), ``/pack?station=CODE``: a server-rendered shell whose
module (static/pack.js) logs the packer in by PIN for that station and runs the ``packing``
scenario over Socket.IO. The kiosk shows it full screen; a plain browser works as well."""
from __future__ import annotations

from flask import render_template, request

from server.guard import public
from server.web import web
from server.web.stations import station_code


@web.get("/pack")
@public  # a shell only: the packer logs in on the page, every command carries the station's token
def pack():
    return render_template("pack.html", station=station_code(request.args.get("station", "")))
