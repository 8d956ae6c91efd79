from apiflask.fields import Boolean, List, String
from apiflask.validators import Length, OneOf

from server.api import api
from server.api.schemas import AuditList, AuditQuery, Schema, UserList
from server.guard import current_principal, requires
from server.models.people import ROLES
from server.services import people


class RolesIn(Schema):
    roles = List(String(validate=OneOf(ROLES)), required=True, validate=Length(1, len(ROLES)))


class UserStateOut(Schema):
    code = String()
    name = String()
    roles = List(String())
    active = Boolean()


class ReleasedOut(Schema):
    device = String()
    released = List(String())


@api.get("/users")
@requires("users.read")
@api.output(UserList)
@api.doc(summary="Users; phone numbers masked unless the caller may read personal data",
         security="BearerAuth")
def list_users():
    return {"items": people.user_list(current_principal())}


@api.put("/users/<code>/roles")
@requires("users.write")
@api.input(RolesIn)
@api.output(UserStateOut)
@api.doc(summary="Set a user's roles; a change ends the user's sessions (their sockets are told and closed)",
         security="BearerAuth")
def set_user_roles(code, json_data):
    return people.set_roles(code, json_data["roles"], by=current_principal())


@api.post("/users/<code>/deactivate")
@requires("users.write")
@api.output(UserStateOut)
@api.doc(summary="Deactivate a user: no login opens, the user's sessions end", security="BearerAuth")
def deactivate_user(code):
    return people.set_active(code, False, by=current_principal())


@api.post("/users/<code>/activate")
@requires("users.write")
@api.output(UserStateOut)
@api.doc(summary="Activate a deactivated user again", security="BearerAuth")
def activate_user(code):
    return people.set_active(code, True, by=current_principal())


@api.post("/devices/<code>/release")
@requires("floor.control")
@api.output(ReleasedOut)
@api.doc(summary="End every session on a device (a station, a handheld) so that another user may log in there",
         security="BearerAuth")
def release_device(code):
    return {"device": code, "released": people.release_device(code, by=current_principal())}


@api.get("/audit")
@requires("audit.read")
@api.input(AuditQuery, location="query")
@api.output(AuditList)
@api.doc(summary="Audit log, newest first", security="BearerAuth")
def list_audit(query_data):
    return {"items": people.audit_list(**query_data)}
