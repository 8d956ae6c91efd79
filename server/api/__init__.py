"""REST API under /api/v1 (JSON). The OpenAPI 3 document at /api/v1/openapi.json is generated
from the same schemas that validate the requests."""
from apiflask import APIBlueprint

from server.api.schemas import storable_path

api = APIBlueprint("api", __name__, url_prefix="/api/v1")
api.url_value_preprocessor(storable_path)

# the routes register on import
from server.api import auth, floor, orders, printing, purchasing, shipping, stock, users, waves  # noqa: E402,F401
from server.api import quality  # noqa: E402,F401
from server.api import returns  # noqa: E402,F401  (refunds and the returns bench)
from server.api import connectors  # noqa: E402,F401  (live connectors and the platform outbox)
from server.api import waybills  # noqa: E402,F401  (carrier waybills: accounts, pools, 打单)
from server.api import tracking  # noqa: E402,F401  (carriers' tracking pushes, delivery times)
from server.api import replenishment  # noqa: E402,F401  (pick faces' min/max, replenishment tasks)
from server.api import counts  # noqa: E402,F401  (cycle counts, 盘点)
from server.api import forecast  # noqa: E402,F401  (demand forecasts, stock alerts, the purchase plan)
from server.api import approvals  # noqa: E402,F401  (多级审批: flows and requests)
from server.api import customers  # noqa: E402,F401  (CRM: customers, tags, repurchase, due-to-reorder list)
from server.api import finance  # noqa: E402,F401  (settlement bills, 对账, vouchers for 金蝶/用友)
from server.api import money  # noqa: E402,F401  (每单核算: line money, unit cost, margin, stock value)
from server.api import reports  # noqa: E402,F401  (报表: the BI reports as JSON, the sales aggregate refresh)
