"""Events made outside the serving processes: a change made by the command line or the print
worker is written to ``floor_event`` with the change, and every serving process reads the new
rows and tells its devices.

Frozen table definitions: this file never imports the live models."""
import datetime

from peewee import BigAutoField, CharField, DateTimeField, Model, TextField


def _models(db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class FloorEvent(Base):
        id = BigAutoField()
        event = CharField(max_length=64)
        payload = TextField()
        rooms = TextField()
        at = DateTimeField(default=datetime.datetime.utcnow)

    return [FloorEvent]


def up(migrator, db):
    db.create_tables(_models(db))


def down(migrator, db):
    db.drop_tables(_models(db))
