"""Products (SKU) and their barcodes (one SKU may have many: unit EAN, case ITF, channel codes)."""
from peewee import AutoField, BooleanField, CharField, ForeignKeyField, IntegerField

from server.models.base import BaseModel, UtcDateTimeField, utcnow


class Product(BaseModel):
    """A stock-keeping unit (商品/SKU); quantities are integers of its base unit."""
    id = AutoField()
    sku = CharField(max_length=64, unique=True)
    name = CharField(max_length=200)
    spec = CharField(max_length=200, default="")
    unit = CharField(max_length=16, default="件")
    weight_g = IntegerField(default=0)
    length_mm = IntegerField(default=0)
    width_mm = IntegerField(default=0)
    height_mm = IntegerField(default=0)
    cost_fen = IntegerField(default=0)
    price_fen = IntegerField(default=0)
    bulky = BooleanField(default=False)
    cold_chain = BooleanField(default=False)
    active = BooleanField(default=True)
    updated_at = UtcDateTimeField(default=utcnow)
    # money: the VAT rate of its sales in bp (1300, 900, 600, 0; none: the standard
    # 13 %) and its category, which picks the platform commission rate (none: no category). No
    # defaults, so code written before them still inserts products
    vat_rate_bp = IntegerField(null=True)
    category = CharField(max_length=64, null=True)


class Barcode(BaseModel):
    """A code that scans to a product; ``multiplier`` units per scan (a case code counts its pack)."""
    id = AutoField()
    code = CharField(max_length=64, unique=True)
    product = ForeignKeyField(Product, backref="barcodes", on_delete="CASCADE")
    multiplier = IntegerField(default=1)
    kind = CharField(max_length=16, default="unit")  # unit | case | channel
