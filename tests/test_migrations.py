"""A database built by the migrations has exactly the schema of the models."""
from playhouse.schema_diff import diff_models

from server.db import database, init_database
from server.models import ALL_MODELS
from server.schema import MIGRATIONS, create_all, migrate, pending


def describe():
    """Tables, columns (name, type, nullability), indexes (columns, unique) and foreign keys."""
    db = database.obj
    shape = {}
    for table in sorted(db.get_tables()):
        if table == "schema_migration":
            continue
        columns = sorted((c.name, c.data_type.lower(), c.null) for c in db.get_columns(table))
        indexes = sorted((tuple(i.columns), i.unique) for i in db.get_indexes(table))
        keys = sorted((f.column, f.dest_table, f.dest_column) for f in db.get_foreign_keys(table))
        shape[table] = (columns, indexes, keys)
    return shape


def test_migrated_schema_equals_the_models(db_url, engine, tmp_path, request):
    init_database(db_url)
    assert migrate() == sorted(p.stem for p in MIGRATIONS.glob("[0-9]*.py"))
    assert pending() == [] and migrate() == []
    assert not diff_models(database.obj, ALL_MODELS), str(diff_models(database.obj, ALL_MODELS))
    migrated = describe()

    if engine == "sqlite":
        init_database(f"sqlite:///{tmp_path}/from-models.db")
    else:
        from tests.conftest import reset_pg
        database.obj.close_all()
        reset_pg(db_url)
        init_database(db_url)
    create_all()
    assert describe() == migrated
    database.obj.close_all()
