"""Peewee models, one module per domain noun. ``ALL_MODELS`` is in dependency order."""
from server.models.catalog import Barcode, Product
from server.models.commands import CommandResult
from server.models.floor_events import FloorEvent
from server.models.layout import Location, PickFace, Warehouse, Zone
from server.models.orders import Allocation, Order, OrderEvent, OrderLine, Shop
from server.models.people import ApiToken, AuditLog, Device, LoginAttempt, Role, User, UserRole
from server.models.stock import Quant, StockMove
from server.models.waves import PickLine, PickTask, Wave, WaveOrder
from server.models.printing import Printer, PrintJob
from server.models.packages import Package, PackageUnit
from server.models.putwall import ToteSort
from server.models.purchasing import ApprovalLimit, PurchaseOrder, PurchaseOrderLine, Supplier, SupplierItem
from server.models.receiving import Lpn, QcCheck, Receipt, SupplierReturn
from server.models.returns import Refund, ReturnParcel, ReturnUnit
from server.models.connectors import (CarrierAccount, ChannelCall, ChannelListing, Lease, ShopConnection,
                                      SyncCheckpoint, TrackingEvent, Waybill)
from server.models.stockcontrol import (CountLine, CountTask, DemandForecast, PromotionDay, ReplenishmentTask,
                                        StockAlert)
from server.models.money import (CostChange, FeeRate, FreightRate, InboundFreight, LineMoney, OrderCharge,
                                 UnitCost)
from server.models.finance import (AccountMapping, BillLine, ExportLayout, SettlementBill, Voucher,
                                   VoucherLine)
from server.models.customers import Customer, CustomerTagCount, LiveStream, ReorderDue, RepurchaseModel
from server.models.reports import ReportRefresh, ReportSalesDay
from server.models.approvals import ApprovalFlow, ApprovalRequest, ApprovalStep
from server.models.refresh_runs import RefreshRun

ALL_MODELS = [
    Role, User, UserRole, Device, ApiToken, LoginAttempt, AuditLog,
    Product, Barcode,
    Warehouse, Zone, Location, PickFace,
    Quant, StockMove,
    CommandResult,
    Shop, Order, OrderLine, Allocation, OrderEvent,
    Wave, WaveOrder, PickTask, PickLine,
    Printer, PrintJob,
    Package, PackageUnit,
    ToteSort,
    FloorEvent,
    Supplier, SupplierItem, ApprovalLimit, PurchaseOrder, PurchaseOrderLine,
    Receipt, Lpn, QcCheck, SupplierReturn,
    Refund, ReturnParcel, ReturnUnit,
    ShopConnection, SyncCheckpoint, Lease, ChannelListing, ChannelCall, CarrierAccount, Waybill, TrackingEvent,
    CountTask, CountLine, ReplenishmentTask, PromotionDay, DemandForecast, StockAlert,
    LineMoney, FeeRate, OrderCharge, FreightRate, InboundFreight, UnitCost, CostChange,
    SettlementBill, BillLine, AccountMapping, Voucher, VoucherLine, ExportLayout,
    Customer, LiveStream, CustomerTagCount, RepurchaseModel, ReorderDue,
    ReportSalesDay, ReportRefresh,
    ApprovalFlow, ApprovalRequest, ApprovalStep,
    RefreshRun,
]

__all__ = [m.__name__ for m in ALL_MODELS] + ["ALL_MODELS"]
