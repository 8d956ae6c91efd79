"""`wavefloor run-demo`: the processes of `make run` under one parent that ends them all.

The printer emulator, the server and, with ``--live``, the living floor run as children. Ctrl-C,
SIGTERM, or the end of the process that started this one (make, killed on its own) stops every
child: each is asked to stop (SIGTERM), and killed after a few seconds if it has not. On Linux a
child also dies with this process if this one is killed outright (the parent-death signal).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import time

PR_SET_PDEATHSIG = 1
GRACE_S = 5.0


def _die_with_parent() -> None:
    """Ask Linux for SIGTERM when the parent process ends (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def _child_setup() -> None:
    # Ctrl-C reaches the whole process group: the children leave it to this process, which
    # stops them in order (and none prints a KeyboardInterrupt trace)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()


def _start(argv: list[str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen(argv, preexec_fn=_child_setup, **kwargs)


def run(*, wavefloor: list[str], host: str, port: int, printer_port: int, printer_dir: str,
        live_args: list[str] | None = None) -> int:
    """Start the children and wait; answer the exit status (0 when stopped by a signal)."""
    _die_with_parent()
    parent = os.getppid()
    stopping = []

    def stop(signum, _frame):
        stopping.append(signum)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    os.makedirs(printer_dir, exist_ok=True)
    env = dict(os.environ, WAVEFLOOR_DEMO_PRINTER_PORT=str(printer_port))
    children = {
        "printer emulator": _start([*wavefloor, "printer-emulator", "--host", "127.0.0.1", "--port", str(printer_port),
                                    "--dir", printer_dir], env=env),
        "server": _start([*wavefloor, "serve", "--host", host, "--port", str(port)], env=env),
    }
    if live_args is not None:
        url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"
        children["live floor"] = _start([*wavefloor, "demo", "--live", "--url", url, *live_args], env=env,
                                        stdout=subprocess.DEVNULL)
    status = 0
    while not stopping:
        ended = [(name, child.returncode) for name, child in children.items() if child.poll() is not None]
        if ended:
            name, status = ended[0]
            print(f"{name} ended (exit {status}); stopping the demo", file=sys.stderr)
            break
        if os.getppid() != parent:  # whoever started us is gone (and no parent-death signal came)
            break
        time.sleep(0.2)
    _stop_all(children.values())
    if stopping:
        print("demo stopped", file=sys.stderr)
        return 0
    return status or 1


def _stop_all(children) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + GRACE_S
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
