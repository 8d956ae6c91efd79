"""Platform clients (TOP, JD JOS, 抖店): signed calls to a sales platform's open API, answers
sorted into pages that the file adapters of server/channels parse, and errors sorted by what
the caller should do next (errors.py). Plumbing only: no database, no models.

    client = CLIENTS["top"](endpoint, app_key, secret, session)
    page = client.order_page(start, end, page_no=1, page_size=100)
    get_adapter(client.order_adapter).parse(page.payload)
"""
from .base import Page, PlatformClient, TraceEvent
from .doudian import DoudianClient
from .errors import BadAnswer, PlatformError, RateLimited, Refused, SessionInvalid, Unreachable
from .jos import JosClient
from .top import TopClient

CLIENTS: dict[str, type[PlatformClient]] = {"top": TopClient, "jos": JosClient, "doudian": DoudianClient}

__all__ = ["CLIENTS", "Page", "TraceEvent", "PlatformClient", "TopClient", "JosClient", "DoudianClient",
           "PlatformError", "Unreachable", "RateLimited", "SessionInvalid", "BadAnswer", "Refused"]
