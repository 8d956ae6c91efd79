from server.api import api
from server.api.schemas import AuditList, AuditQuery, UserList
from server.guard import current_principal, requires
from server.services import people


@api.get("/users")
@requires("users.read")
@api.output(UserList)
@api.doc(summary="Users; phone numbers masked unless the caller may read personal data",
         security="BearerAuth")
def list_users():
    return {"items": people.user_list(current_principal())}


@api.get("/audit")
@requires("audit.read")
@api.input(AuditQuery, location="query")
@api.output(AuditList)
@api.doc(summary="Audit log, newest first", security="BearerAuth")
def list_audit(query_data):
    return {"items": people.audit_list(**query_data)}
