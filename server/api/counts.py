"""Cycle counts (盘点): plans, the counts and their lines, the supervisor's decision, and the
inventory accuracy of each week. A count's expected figures are the supervisor's
(``floor.control``): a counter counts blind and must not read them here."""
from apiflask.fields import Boolean, Dict, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range

from server.api import api
from server.api.schemas import Schema
from server.guard import current_principal, requires
from server.services.counts import plans, review, tasks


class CountPlanIn(Schema):
    by = String(required=True, validate=OneOf(plans.PLANS),
                metadata={"description": "zone, aisle, list (of locations), abc (A monthly, B quarterly, "
                                         "C yearly, from the last 90 days' picks), stale (not counted for "
                                         "`days`), flagged (short picks, rejected counts, sent to count)"})
    warehouse = String(load_default=None, validate=Length(max=32))
    zone = String(load_default=None, validate=Length(max=32))
    aisle = Integer(load_default=None, validate=Range(min=0, max=100000))
    locations = List(String(validate=Length(min=1, max=64)), load_default=None, validate=Length(max=5000))
    days = Integer(load_default=None, validate=Range(min=1, max=3650))
    dry_run = Boolean(load_default=False, metadata={"description": "say what would be counted, open nothing"})


class PlannedOut(Schema):
    by = String()
    created = List(Dict(), metadata={"description": "[{code, location, reason}] (code null in a dry run)"})
    skipped = Integer(metadata={"description": "locations chosen that are in a count already"})
    dry_run = Boolean()


class CountQuery(Schema):
    status = String(load_default=None, validate=Length(max=100),
                    metadata={"description": "open, counting, counted, recounted, review, approved, rejected, "
                                             "cancelled (comma separated)"})
    location = String(load_default=None, validate=Length(max=64))
    warehouse = String(load_default=None, validate=Length(max=32))
    limit = Integer(load_default=100, validate=Range(min=1, max=1000))


class CountTaskOut(Schema):
    code = String()
    status = String()
    reason = String(metadata={"description": "the plan that opened it: zone, aisle, list, abc_a, abc_b, abc_c, "
                                             "stale, flagged, recount"})
    blind = Boolean()
    warehouse = String()
    location = String()
    counter = String(allow_none=True)
    approver = String(allow_none=True)
    recount_of = String(allow_none=True)
    variance_units = Integer(metadata={"description": "units off, every line's |counted - expected| summed"})
    variance_fen = Integer(metadata={"description": "the same at cost (price when no cost), fen"})
    created_at = String(allow_none=True)
    started_at = String(allow_none=True)
    counted_at = String(allow_none=True)
    decided_at = String(allow_none=True)
    note = String()
    lines = List(Dict(), metadata={"description": "[{sku, name, lot, counted, expected_at_start, moved, expected, "
                                                  "variance, variance_fen}]: expected = the ledger at the first "
                                                  "scan + units moved in or out since"})
    first_count = Dict(metadata={"description": "in review: the count this recount checked"})
    adjustments = List(Dict(), metadata={"description": "approved: [{sku, lot, delta, state}] posted, reason count"})


class CountList(Schema):
    items = List(Nested(CountTaskOut))


class DecisionIn(Schema):
    note = String(load_default="", validate=Length(max=500))


class AccuracyQuery(Schema):
    weeks = Integer(load_default=8, validate=Range(min=1, max=104))
    warehouse = String(load_default=None, validate=Length(max=32))


class AccuracyOut(Schema):
    weeks = List(Dict(), metadata={"description": "[{week, monday, locations, without_variance, accuracy, value_fen, "
                                                  "value_without_variance_fen, accuracy_by_value}], oldest first"})
    current = Dict(metadata={"description": "this week's row"})


@api.post("/counts/plan")
@requires("floor.control")
@api.input(CountPlanIn)
@api.output(PlannedOut, status_code=201)
@api.doc(summary="Open count tasks by zone, aisle, location list, ABC class, days since counted, or flags",
         security="BearerAuth")
def post_count_plan(json_data):
    return plans.plan(**json_data)


@api.get("/counts")
@requires("floor.control")
@api.input(CountQuery, location="query")
@api.output(CountList)
@api.doc(summary="Count tasks, newest first", security="BearerAuth")
def list_counts(query_data):
    return {"items": review.listing(**query_data)}


@api.get("/counts/review")
@requires("floor.control")
@api.output(CountList)
@api.doc(summary="Counts waiting for a supervisor: counted against expected, with the first count checked",
         security="BearerAuth")
def counts_in_review():
    return {"items": review.waiting_review()}


@api.get("/counts/accuracy")
@requires("stock.read")
@api.input(AccuracyQuery, location="query")
@api.output(AccuracyOut)
@api.doc(summary="Inventory accuracy per week: locations without variance / counted, and by value",
         security="BearerAuth")
def count_accuracy(query_data):
    return review.accuracy(**query_data)


@api.get("/counts/<code>")
@requires("floor.control")
@api.output(CountTaskOut)
@api.doc(summary="One count task with its lines", security="BearerAuth")
def get_count(code):
    return review.task_view(tasks.by_code(code))


@api.post("/counts/<code>/approve")
@requires("floor.control")
@api.input(DecisionIn)
@api.output(CountTaskOut)
@api.doc(summary="Approve a count in review: one ledger adjustment (reason count) per line with a variance",
         security="BearerAuth")
def approve_count(code, json_data):
    return review.approve(code, current_principal().user.id, json_data["note"])


@api.post("/counts/<code>/reject")
@requires("floor.control")
@api.input(DecisionIn)
@api.output(CountTaskOut)
@api.doc(summary="Reject a count in review: nothing posted, the location stays flagged", security="BearerAuth")
def reject_count(code, json_data):
    return review.reject(code, current_principal().user.id, json_data["note"])


@api.post("/counts/<code>/cancel")
@requires("floor.control")
@api.output(CountTaskOut)
@api.doc(summary="Cancel an open count task", security="BearerAuth")
def cancel_count(code):
    return review.cancel(code, current_principal().user.id)
