"""Prints what `make run` started: the URLs and the demo logins."""
import json
import sys

PAGES = (  # what each person on the floor opens
    ("office / supervisor login", "/login"),
    ("orders", "/orders"),
    ("stock lookup", "/stock"),
    ("picker handheld (PIN)", "/handheld/"),
    ("pack station kiosk", "/pack"),
    ("put wall kiosk", "/putwall"),
    ("wall screen", "/wall"),
    ("control room", "/control"),
    ("REST API (OpenAPI 3)", "/api/v1/openapi.json"),
)


def main(summary_path: str, base_url: str, printer_port: str) -> None:
    with open(summary_path, encoding="utf-8") as fh:
        summary = json.load(fh)
    print()
    print("Wavefloor demo is starting")
    for label, path in PAGES:
        print(f"  {label:<28}{base_url}{path}")
    print(f"  Socket.IO namespace         {base_url}/floor")
    print(f"  printer emulator            tcp://127.0.0.1:{printer_port} (jobs in instance/printer)")
    print(f"  demo data                   {', '.join(summary['warehouses'])}: {summary['locations']} locations, "
          f"{summary['products']} SKUs")
    print("  logins (user / password or PIN):")
    for login in summary["logins"]:
        secret = f"password {login['password']}" if login["password"] else ""
        if login["pin"]:
            secret += (", " if secret else "") + f"PIN {login['pin']}"
        print(f"    {login['user']:<8} {'/'.join(login['roles']):<11} {secret}")
    print()


if __name__ == "__main__":
    main(*sys.argv[1:4])
