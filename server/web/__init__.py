"""Server-rendered pages: login, stock lookup. zh-CN and English (Flask-Babel)."""
from __future__ import annotations

import datetime as dt
import logging
import os
import re
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import Babel, gettext as _

from server.guard import client_address, current_principal, from_another_host, public, requires
from server.messages import LANGUAGES, normalise_language, text
from server.services import auth
from server.services.errors import DomainError
from server.services.stock import desk as stockdesk

web = Blueprint("web", __name__)
# why a page's session ended (the event session.ended), shown on the login page it goes to
SESSION_ENDS = ("logged_out", "session_expired", "role_changed", "user_deactivated", "device_released")
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


def compile_translations() -> None:
    """Build the .mo catalogs from the .po sources when they are missing or older.
    deploy/install.sh builds them as root; a server process runs as a user who may not write
    there, and then goes on with what it has (English where a catalog is missing), saying so."""
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as src:
                catalog = read_po(src)
            # renamed when whole, so that no process reads a half-written catalog (each server
            # process of a site compiles at its start)
            part = mo.with_name(f"{mo.name}.{os.getpid()}.part")
            try:
                with part.open("wb") as out:
                    write_mo(out, catalog)
                part.replace(mo)
            except OSError as exc:
                part.unlink(missing_ok=True)
                logging.getLogger(__name__).error(
                    "cannot write the compiled translations %s (%s); as the folder's owner, run: "
                    "python -c 'from server.web import compile_translations; compile_translations()'", mo, exc)


def select_locale() -> str:
    chosen = session.get("lang")
    if chosen:
        return chosen
    principal = g.get("principal")
    if principal is not None and principal.user.language:
        return normalise_language(principal.user.language)
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    return normalise_language(best or current_app.config["WF"]["DEFAULT_LANGUAGE"])


def init_web(app) -> None:
    compile_translations()
    Babel(app, locale_selector=select_locale, default_translation_directories=str(TRANSLATIONS))
    app.register_blueprint(web)

    @app.context_processor
    def inject():
        return {"principal": current_principal(), "lang": select_locale(), "state_names": state_names(),
                "hold_names": hold_names()}

    zone = ZoneInfo(app.config["WF"]["TIMEZONE"])

    @app.template_filter("localtime")
    def localtime(value):
        """UTC from the database, shown in the warehouse's time zone."""
        return value.replace(tzinfo=dt.timezone.utc).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def state_names() -> dict:
    return {"new": _("New"), "reviewing": _("Reviewing"), "held": _("Held"), "approved": _("Approved"),
            "allocated": _("Allocated"), "backorder": _("Backorder"), "waved": _("In a wave"),
            "picking": _("Picking"), "picked": _("Picked"), "packed": _("Packed"), "shipped": _("Shipped"),
            "cancelled": _("Cancelled")}


def hold_names() -> dict:
    from server.services.rulebook import book
    english = select_locale() == "en"
    return {rule.code: (rule.name_en if english else rule.name_zh) for rule in book().review.rules}


# a path with its query: printable ASCII, no space, no backslash (browsers read /\host as //host,
# and drop tabs and line breaks, so /<tab>/host is //host too; a line break in a Location header
# is refused outright)
_LOCAL_PATH = re.compile(r"/(?![/\\])[!-~]*")


def _local_target(target: str) -> str:
    """``target`` if it is a path on this server, else ""."""
    if not _LOCAL_PATH.fullmatch(target) or "\\" in target:
        return ""
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and parts.path.startswith("/") else ""


@web.get("/")
@public
def index():
    return redirect(url_for("web.stock") if current_principal() else url_for("web.login"))


@web.route("/login", methods=["GET", "POST"])
@public
def login():
    if request.method == "POST":
        if from_another_host() or request.headers.get("Sec-Fetch-Site") in ("cross-site", "same-site"):
            # a form on another site would log this browser in as someone else (and all it then does)
            return render_template("login.html", error=text("cross_site_form", select_locale()), user=""), 403
        try:
            result = auth.login_password(current_app.config["WF"], request.form.get("user", ""),
                                         request.form.get("password", ""), client_address())
        except DomainError as exc:
            message = (_("Too many failed logins. Try again in a few minutes.")
                       if exc.code == "locked_out" else _("Wrong user or password.")
                       if exc.code == "bad_credentials" else text(exc.code, select_locale()))
            return (render_template("login.html", error=message, user=request.form.get("user", "")),
                    exc.http_status)
        chosen_language = session.get("lang")
        session.clear()
        session["token"] = result["token"]
        if chosen_language:
            session["lang"] = chosen_language
        return redirect(_local_target(request.args.get("next", "")) or url_for("web.stock"))
    ended = request.args.get("ended", "")  # a page whose session ended sends its browser here, saying why
    notice = text(ended, select_locale()) if ended in SESSION_ENDS else None
    return render_template("login.html", error=notice, user="")


@web.post("/logout")
@requires("floor.connect")
def logout():
    auth.logout(current_principal())
    session.clear()
    return redirect(url_for("web.login"))


@web.get("/lang/<code>")
@public
def set_language(code):
    if code in LANGUAGES:
        session["lang"] = code
    return redirect(_local_target(request.args.get("next", "")) or url_for("web.index"))


@web.get("/stock")
@requires("stock.read")
def stock():
    code = request.args.get("q", "").strip()
    result, error = None, None
    if code:
        try:
            try:
                result = stockdesk.stock_view(location=code)
                result["kind"] = "location"
            except DomainError:
                result = stockdesk.stock_view(barcode=code)
                result["kind"] = "product"
        except DomainError:
            error = _("Nothing found for %(code)s.", code=code)
    return render_template("stock.html", q=code, result=result, error=error)




def opens_with_token(endpoint: str, permission: str, address=lambda principal: {}) -> None:
    """``<page>?token=...``: a device that logged in by PIN opens the page with its token; the
    token moves into the page's session and off the address bar (``address`` gives the
    arguments the clean address keeps). A link is not a login: the token is taken only when the
    device itself opened the address (not a page of another site), and never in place of another
    user's session the browser holds."""
    @web.before_app_request
    def open_with_token():
        token = request.args.get("token")
        if request.endpoint != endpoint or not token:
            return None
        principal = auth.authenticate(token)
        if principal is None or not principal.can(permission) or not _may_take_token(principal):
            return None  # the guard sends it to the login page (or refuses the role)
        session.clear()
        session["token"] = token
        return redirect(url_for(endpoint, **address(principal)))


def _may_take_token(principal) -> bool:
    if request.headers.get("Sec-Fetch-Site") in ("cross-site", "same-site") or from_another_host():
        return False
    held = current_principal()  # the session's (or a bearer header's) principal, already loaded
    return held is None or held.user.id == principal.user.id


def request_token() -> str | None:
    """The token a page's script asked with: its bearer header, else the page session's."""
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else session.get("token")


from server.web import handheld as _handheld  # noqa: E402,F401  (the picker's app at /handheld/)
from server.web import orders as _orders  # noqa: E402,F401  (office pages register on the blueprint)
from server.web import pack as _pack  # noqa: E402,F401  (the packing station's page)
from server.web import putwall as _putwall  # noqa: E402,F401  (the put wall station's page)
from server.web import qc as _qc  # noqa: E402,F401  (the QC bench and the supplier returns)
from server.web import wall as _wall  # noqa: E402,F401  (the wall screen and the control room)
from server.web import returns as _returns  # noqa: E402,F401  (the returns bench and the office's returns page)
from server.web import purchasing as _purchasing  # noqa: E402,F401  (purchase orders and suppliers)
from server.web import connectors as _connectors  # noqa: E402,F401  (the shops' platform connections)
from server.web import waybills as _waybills  # noqa: E402,F401  (carriers: waybill accounts and number pools)
from server.web import forecast as _forecast  # noqa: E402,F401  (forecast, stock alerts, purchase plan)
from server.web import approvals as _approvals  # noqa: E402,F401  (多级审批)
from server.web import customers as _customers  # noqa: E402,F401  (CRM: customers, due-to-reorder list, repurchase)
from server.web import reports as _reports  # noqa: E402,F401  (报表: BI report pages and their xlsx exports)
from server.web import finance as _finance  # noqa: E402,F401  (财务: bills, 对账, vouchers, transactions)
from server.web import money as _money  # noqa: E402,F401  (毛利: margin by SKU, shop, channel, day)
