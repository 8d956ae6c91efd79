"""The database a benchmark runs on: a SQLite file, or a PostgreSQL database of the run's own."""
from __future__ import annotations

import contextlib
import os
import uuid


@contextlib.contextmanager
def bench_database(engine: str, folder: str, label: str = "scans"):
    """A SQLite file in ``folder``, or a PostgreSQL database (``wf_bench_<label>_...``, on the
    server of WAVEFLOOR_TEST_PG) made for the run and dropped after."""
    if engine == "sqlite":
        yield f"sqlite:///{folder}/bench.db"
        return
    import psycopg
    admin = os.environ.get("WAVEFLOOR_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
    name = f"wf_bench_{label}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.rsplit("/", 1)[0] + f"/{name}"
    finally:
        from server.db import database
        if database.obj is not None:
            database.obj.close_all()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
