from flask import current_app

from server.api import api
from server.api.schemas import LoginIn, MeOut, PinIn, ProgramTokenIn, ProgramTokenOut, TokenOut
from server.guard import client_address, current_principal, public, requires
from server.services import auth, people


@api.post("/auth/login")
@public
@api.input(LoginIn)
@api.output(TokenOut)
@api.doc(summary="Log in with user code and password (people at a PC, programs)")
def login(json_data):
    return auth.login_password(current_app.config["WF"], json_data["user"], json_data["password"],
                               client_address())


@api.post("/auth/pin")
@public
@api.input(PinIn)
@api.output(TokenOut)
@api.doc(summary="Log in a handheld or kiosk with user code, PIN and device code; refused (409, device_in_use) "
                 "while another user's session holds the device")
def login_pin(json_data):
    return auth.login_pin(current_app.config["WF"], json_data["user"], json_data["pin"],
                          json_data["device"], client_address())


@api.post("/auth/logout")
@requires("floor.connect")
@api.output({}, status_code=204)
@api.doc(summary="Revoke the token used for this request; its sockets are told (session.ended) and closed",
         security="BearerAuth")
def logout():
    auth.logout(current_principal())
    return ""


@api.get("/me")
@requires("floor.connect")
@api.output(MeOut)
@api.doc(summary="Who the token belongs to", security="BearerAuth")
def me():
    p = current_principal()
    return {"user": p.user, "roles": p.roles, "device": p.device.code if p.device else None,
            "permissions": sorted(p.permissions)}


@api.post("/tokens")
@requires("tokens.write")
@api.input(ProgramTokenIn)
@api.output(ProgramTokenOut, status_code=201)
@api.doc(summary="Issue a long-lived token for a program; shown once", security="BearerAuth")
def issue_token(json_data):
    token = people.issue_program_token(json_data["user"], json_data["label"], by=current_principal(),
                                       days=json_data["days"])
    return {"token": token}
