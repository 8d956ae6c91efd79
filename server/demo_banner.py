"""Prints what `make run` started: where each person starts, the demo's logins and codes, how
to stop. Arguments: the demo's JSON summary, the server's URL, the printer emulator's port, and
``live`` when the living floor runs beside the server."""
import json
import sys

PAGES = (  # where each person starts: (who, path, what they do there)
    ("office", "/login", "user office: orders, held orders (审单), stock; /orders, /stock"),
    ("supervisor, control room", "/control", "user boss: plan and release waves, exceptions"),
    ("wall screen", "/wall", "user boss: live progress for the whole floor"),
    ("picker, handheld (360 px)", "/handheld/", "PIN login: P001 … P003, device e.g. HH-01"),
    ("packer, pack station", "/pack?station=PACK-01", "PIN login: K001 or K002; also ?station=PACK-02"),
    ("put wall station", "/putwall?station=HZ-PW1", "PIN login: K001, K002 or a picker"),
    ("receiver, handheld (360 px)", "/handheld/", "PIN login: R001; receive PO-DEMO-0001 at the dock (scan its code or "
     "delivery note SN-HZTX-20261206), then QC and put away from the menu"),
    ("QC bench", "/qc", "user boss: plates waiting for QC (ISO 2859-1 samples); on a handheld, R001 chooses QC"),
    ("returns bench", "/returns/bench?station=RB-01", "PIN login: R001; scan a tracking number or order number"),
    ("purchasing (office)", "/purchase-orders", "user office: POs, suppliers, in transit; /returns, "
     "/supplier-returns"),
    ("REST API (OpenAPI 3)", "/api/v1/openapi.json", "POST /api/v1/auth/login for a token"),
)


def _logins(summary: dict) -> list[str]:
    people, simulated = [], []
    for login in summary["logins"]:
        if "Sim " in login.get("name", ""):
            simulated.append(login["user"])
            continue
        secret = f"password {login['password']}" if login["password"] else ""
        if login["pin"]:
            secret += (", " if secret else "") + f"PIN {login['pin']}"
        people.append(f"    {login['user']:<8} {'/'.join(login['roles']):<11} {secret}")
    if simulated:
        people.append(f"    {', '.join(simulated)}: simulated workers of `make run LIVE=1` (leave them to it)")
    return people


def _orders(summary: dict) -> str:
    orders = summary.get("orders") or {}
    statuses = ", ".join(f"{count} {status}" for status, count in (orders.get("by_status") or {}).items())
    channels = ", ".join(f"{channel} {count}" for channel, count in (orders.get("by_channel") or {}).items())
    return f"{statuses or 'none'} (demo orders by channel: {channels or 'none'})"


def main(summary_path: str, base_url: str, printer_port: str, mode: str = "") -> None:
    with open(summary_path, encoding="utf-8") as fh:
        summary = json.load(fh)
    codes = summary.get("codes") or {}
    print()
    print("Wavefloor demo is starting" + (" with a living floor (simulated pickers and packers)" if mode else ""))
    print("Where each person starts:")
    for who, path, what in PAGES:
        print(f"  {who:<27} {base_url}{path}")
        print(f"  {'':<27}   {what}")
    print("Logins (user / password or PIN):")
    print("\n".join(_logins(summary)))
    print("Codes to scan or type (print them: wavefloor labels sheet --kind tote|location|sku --out DIR):")
    print(f"  totes            {', '.join(codes.get('totes', []))} (people: T001 … T030)")
    print(f"  locations        the barcode of a location is its code, e.g. {codes.get('location_example', '')}")
    print(f"  put wall slots   {', '.join(codes.get('put_wall_slots', []))}")
    print(f"  pack stations    {', '.join(codes.get('pack_stations', []))} (a station is the device a packer logs in on)")
    print(f"  label printers   {', '.join(codes.get('printers', []))}: all print to the emulator "
          f"tcp://127.0.0.1:{printer_port}, labels land in instance/printer")
    print(f"  receiving docks  {', '.join(codes.get('docks', []))} (their labels print to ZD-<dock>)")
    print("  SKUs             item barcodes are EAN-13 (69…); the SKU code scans too")
    print(f"Demo data: {', '.join(summary['warehouses'])}: {summary['locations']} locations, "
          f"{summary['products']} SKUs; orders: {_orders(summary)}")
    print("Stop: Ctrl-C here (or SIGTERM to make) stops the server, the printer emulator"
          + (" and the living floor." if mode else " and everything else `make run` started."))
    print()


if __name__ == "__main__":
    main(*sys.argv[1:5])
