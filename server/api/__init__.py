"""REST API under /api/v1 (JSON). The OpenAPI 3 document at /api/v1/openapi.json is generated
from the same schemas that validate the requests."""
from apiflask import APIBlueprint

api = APIBlueprint("api", __name__, url_prefix="/api/v1")

from server.api import auth, orders, stock, users, printing, waves, shipping, floor  # noqa: E402,F401  (routes register on import)
