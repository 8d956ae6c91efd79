"""Prints what `make run` started: the URLs and the demo logins."""
import json
import sys


def main(summary_path: str, base_url: str, printer_port: str) -> None:
    with open(summary_path, encoding="utf-8") as fh:
        summary = json.load(fh)
    print()
    print("Wavefloor demo is starting")
    print(f"  office / supervisor login   {base_url}/login")
    print(f"  stock lookup                {base_url}/stock")
    print(f"  REST API (OpenAPI 3)        {base_url}/api/v1/openapi.json")
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
