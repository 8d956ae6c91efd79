"""An order keeps when the channel last changed it (``channel_modified_at``, from the payload's
own modification time), so a replayed or late payload older than that is not applied. Orders
imported before have none; their next payload sets it."""
from peewee import DateTimeField


def up(migrator, db):
    migrator.migrate(migrator.add_column("order", "channel_modified_at", DateTimeField(null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("order", "channel_modified_at"))
