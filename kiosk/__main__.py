"""``python -m kiosk --server URL --station CODE``: start a packing kiosk (打包台)."""
from __future__ import annotations

import logging
import os
import sys

import click

from kiosk.camera import DECODERS, DecoderUnavailable


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--server", required=True, envvar="WAVEFLOOR_SERVER", metavar="URL",
              help="The Wavefloor server, e.g. http://wavefloor.lan:5000.")
@click.option("--station", required=True, envvar="WAVEFLOOR_STATION", metavar="CODE",
              help="This packing station's code, e.g. PACK-03.")
@click.option("--camera", envvar="WAVEFLOOR_CAMERA", metavar="INDEX|PATH|URL",
              help="Scan with a camera: a device index (0), a device (/dev/video2), a stream "
                   "URL or a video file. Without it, scan with a keyboard-wedge scanner.")
@click.option("--decoder", type=click.Choice(("auto",) + DECODERS), default="auto",
              show_default=True, help="Barcode decoder for the camera.")
@click.option("--holdoff", type=click.FloatRange(min=0), default=1.5, show_default=True,
              metavar="SECONDS",
              help="A code must be out of the camera's view this long to be scanned again.")
@click.option("--scan-fifo", metavar="PATH",
              help="Also take scans from this named pipe, one per line (made if missing).")
@click.option("--fullscreen/--windowed", default=True, show_default=True,
              help="Fill the screen (stations) or open a normal window (desks, testing).")
@click.option("--debug", is_flag=True, help="Enable the web inspector (right click).")
@click.option("-v", "--verbose", is_flag=True, help="Log each scan and page call.")
def main(server, station, camera, decoder, holdoff, scan_fifo, fullscreen, debug, verbose):
    """Open this station's packing page full screen and hand it every scan."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from kiosk.shell import page_url, run

    try:
        page_url(server, station)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--server") from exc
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                  or os.environ.get("WAYLAND_DISPLAY")):
        raise click.ClickException("no screen: DISPLAY is not set (start the kiosk inside the "
                                   "station's X session, or set DISPLAY=:0)")
    try:
        from webview.errors import WebViewException
    except ImportError as exc:
        raise click.ClickException(
            f"pywebview is not installed ({exc}); pip install 'pywebview[gtk]'") from exc
    try:
        run(server, station, camera=camera, fullscreen=fullscreen, decoder=decoder,
            holdoff_s=holdoff, scan_fifo=scan_fifo, debug=debug)
    except DecoderUnavailable as exc:
        raise click.ClickException(str(exc)) from exc
    except ImportError as exc:
        raise click.ClickException(f"{exc}; pip install opencv-python-headless") from exc
    except WebViewException as exc:
        raise click.ClickException(
            f"{exc}. The kiosk needs GTK and WebKit: apt-get install gir1.2-webkit2-4.1 "
            "and pip install 'pywebview[gtk]'.") from exc


if __name__ == "__main__":
    main(prog_name="python -m kiosk")
