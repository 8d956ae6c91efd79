"""Click commands of the printing layer, added to the ``wavefloor`` group by ``server/cli.py``:

- ``printer_emulator`` (``wavefloor printer-emulator --host --port --dir``)
- ``labels`` group (``wavefloor labels sample --out DIR [--dpi 203|300] [--cjk font|raster]``,
  ``wavefloor labels send URL TEMPLATE``, ``wavefloor labels status URL``)
"""

from __future__ import annotations

import json

import click

from printers import emulator as emulator_module
from printers.labels import TEMPLATES, render_label, write_samples
from printers.status import read_status
from printers.transport import open_transport
from printers.zpl import PrinterProfile


@click.command("printer-emulator")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=9100, show_default=True, type=int)
@click.option("--dir", "directory", default="printed", show_default=True,
              type=click.Path(file_okay=False), help="where printed jobs are stored")
@click.option("--hs-silent-on-error", is_flag=True,
              help="like newer firmware, do not answer ~HS in paper out / head open / ribbon out")
@click.option("--no-status", is_flag=True,
              help="print, but never answer ~HS or ~HQES (a print server, an older printer)")
def printer_emulator(host: str, port: int, directory: str, hs_silent_on_error: bool, no_status: bool) -> None:
    """A TCP 9100 Zebra printer: stores jobs, answers ~HS/~HQES, can be told to fail.

    Faults: send the line "~WF:FAULT paper_out" (or head_open, ribbon_out, paused, silent, ok)
    to the port, or signal the process: SIGUSR1 cycles ok -> paper_out -> head_open -> silent,
    SIGUSR2 sets ok.
    """
    emulator_module.run(host, port, directory, hs_silent_on_error, echo=click.echo, answers_status=not no_status)


@click.group("labels")
def labels() -> None:
    """ZPL label templates: samples, test prints and printer status."""


@labels.command("sample")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
@click.option("--dpi", default="203", type=click.Choice(["203", "300"]), show_default=True)
@click.option("--cjk", default="font", type=click.Choice(["font", "raster"]), show_default=True,
              help="Chinese text as a printer font (^CW) or rasterised to ^GF")
@click.option("--font", "font_path", default=None, help="TrueType CJK font for --cjk raster")
def sample(out_dir: str, dpi: str, cjk: str, font_path: str | None) -> None:
    """Write one .zpl per template and a .json naming the data of each barcode."""
    for path in write_samples(out_dir, int(dpi), cjk=cjk, font_path=font_path):
        click.echo(path)


@labels.command("send")
@click.argument("url")
@click.argument("template", type=click.Choice(sorted(TEMPLATES)))
@click.option("--dpi", default="203", type=click.Choice(["203", "300"]), show_default=True)
@click.option("--cjk", default="font", type=click.Choice(["font", "raster"]), show_default=True)
def send(url: str, template: str, dpi: str, cjk: str) -> None:
    """Print a template's demo label on the printer at URL (tcp://, cups://, file://)."""
    spec = TEMPLATES[template]
    profile = PrinterProfile(dpi=int(dpi), width_in=spec.width_in, height_in=spec.height_in, cjk=cjk)
    with open_transport(url) as transport:
        transport.send(render_label(template, spec.demo(), profile))
    click.echo(f"sent {template} to {url}")


@labels.command("status")
@click.argument("url")
@click.option("--command", "command", default="~HS", type=click.Choice(["~HS", "~HQES"]), show_default=True)
def status(url: str, command: str) -> None:
    """Ask the printer at URL for its status and print it as JSON."""
    with open_transport(url) as transport:
        result = read_status(transport, command)
    click.echo(json.dumps({"ok": result.ok, "faults": result.faults, "warnings": result.warnings,
                           "source": result.source}))
    if not result.ok:
        raise SystemExit(1)
