"""Building the schema: ``migrate`` (the real path) and ``create_all`` (tests' fast path);
``tests/test_migrations.py`` proves the two agree."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from playhouse.migrations import Runner

from server.db import database, is_sqlite
from server.models import ALL_MODELS

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class MigrationsMissing(RuntimeError):
    """The code runs from somewhere that has no migrations folder beside it."""


def _runner() -> Runner:
    if not any(MIGRATIONS.glob("[0-9]*.py")):
        raise MigrationsMissing(f"no migrations in {MIGRATIONS}: run Wavefloor from its application folder "
                                "(installed with `pip install -e`, as deploy/install.sh does)")
    return Runner(database.obj, directory=str(MIGRATIONS))


def migrate() -> list[str]:
    """Apply pending migrations in order; return the names applied."""
    return _runner().up()


def pending() -> list[str]:
    return [m.name for m in _runner().status() if m.applied is None and m.path is not None]


def create_all() -> None:
    """Every table from the models, and on PostgreSQL the functions the migrations install."""
    database.create_tables(ALL_MODELS)
    if not is_sqlite():
        for source in functions():
            database.execute_sql(source)


def functions() -> list[str]:
    """The PostgreSQL functions the migrations define (a migration's ``FUNCTION``), oldest first:
    each replaces the one before it of its name."""
    found = []
    for path in sorted(MIGRATIONS.glob("[0-9]*.py")):
        spec = importlib.util.spec_from_file_location(f"migration_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if isinstance(getattr(module, "FUNCTION", None), str):
            found.append(module.FUNCTION)
    return found
