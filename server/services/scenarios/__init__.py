"""One module per device scenario (picking, putwall, packing, stock; next: receiving, putaway,
counting, replenishment), each with its state table and sequence diagram in its docstring.

Layer 3 of services/, the top: a scenario uses the device frame and the nouns; nothing in
services/ imports a scenario. A scenario registers itself with ``device.commands.scenario`` (and
what it adds to a device's snapshot with ``device.snapshot.provider``) when it is imported:
importing this package registers them all.
"""
from server.services.scenarios import packing, picking, putwall, stock, wallboard  # noqa: F401
from server.services.scenarios import putaway, receiving  # noqa: F401
from server.services.scenarios import qc  # noqa: F401,E402
from server.services.scenarios import returns  # noqa: F401,E402
from server.services.scenarios import replenishing  # noqa: F401,E402
from server.services.scenarios import counting  # noqa: F401,E402  (盘点)
from server.services.scenarios import picking_direct  # noqa: F401,E402  (picking scans on PostgreSQL)
