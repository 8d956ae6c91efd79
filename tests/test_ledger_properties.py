"""The ledger under any sequence of stock operations (a Hypothesis state machine).

Whatever receive / move / reserve / pick (a move that uses its reservation) / ship (issue) /
adjust / release / change of state comes, in any order and with any quantity:
  - the quants equal the ledger (``inventory.audit() == []``) and a model kept beside them;
  - no quant is ever negative and its reservation stays between 0 and its quantity;
  - an operation that is refused changes nothing, neither a quant nor the ledger.
SQLite runs the long search; PostgreSQL a shorter one.
"""
from __future__ import annotations

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from server.models import AuditLog, Quant, StockMove
from server.services.errors import DomainError
from server.services.stock import inventory

LOCATIONS = ("A-01", "A-02", "R-01")
STATES = ("available", "damaged")
SKUS = ("TS-01", "MG-01")
EXAMPLES = {"sqlite": 150, "postgres": 30}

quantities = st.integers(min_value=-2, max_value=25)
skus, locations, states = st.sampled_from(SKUS), st.sampled_from(LOCATIONS), st.sampled_from(STATES)


def ledger_machine(warehouse: dict, actor: inventory.Actor):
    products = {"TS-01": warehouse["tee"], "MG-01": warehouse["mug"]}
    places = warehouse["locations"]

    class Ledger(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            for model in (StockMove, Quant, AuditLog):  # every run starts from an empty floor
                model.delete().execute()
            self.model: dict[tuple[str, str, str], list[int]] = {}  # (sku, location, state) -> [qty, reserved]

        # --- the model's view ---
        def _quant(self, sku, location, state) -> list[int]:
            return self.model.setdefault((sku, location, state), [0, 0])

        def _free(self, sku, location, state) -> int:
            qty, reserved = self.model.get((sku, location, state), (0, 0))
            return qty - reserved

        def _can_take(self, sku, location, state, qty, reserved=0) -> bool:
            have_qty, have_reserved = self.model.get((sku, location, state), (0, 0))
            return qty > 0 and 0 <= reserved <= qty and have_qty - have_reserved >= qty - reserved \
                and have_reserved >= reserved

        def _take(self, sku, location, state, qty, reserved=0) -> None:
            entry = self._quant(sku, location, state)
            entry[0] -= qty
            entry[1] -= reserved

        def _apply(self, allowed: bool, operation, change) -> None:
            """Run the operation; it succeeds exactly when the model allows it, and a refusal
            leaves the quants and the ledger as they were."""
            before = (self._database(), StockMove.select().count())
            try:
                operation()
            except DomainError:
                assert not allowed, "refused an operation the stock allows"
                assert (self._database(), StockMove.select().count()) == before, "a refusal changed something"
                return
            assert allowed, "accepted an operation the stock does not allow"
            change()

        @staticmethod
        def _database() -> dict:
            return {(q.product.sku, q.location.code, q.state): [q.qty, q.reserved]
                    for q in Quant.select() if q.qty or q.reserved}

        # --- the operations ---
        @rule(sku=skus, location=locations, state=states, qty=quantities)
        def receive(self, sku, location, state, qty):
            self._apply(qty > 0, lambda: inventory.receive(products[sku], places[location], qty, actor=actor,
                                                           state=state),
                        lambda: self._quant(sku, location, state).__setitem__(
                            0, self._quant(sku, location, state)[0] + qty))

        @rule(sku=skus, src=locations, dst=locations, state=states, qty=quantities,
              reserved=st.integers(min_value=0, max_value=5))
        def move(self, sku, src, dst, state, qty, reserved):
            """A move; with ``reserved`` it is a pick that uses the units' reservation."""
            # a move to where the units are, using no reservation, would change nothing: refused
            allowed = self._can_take(sku, src, state, qty, reserved) and (src != dst or reserved > 0)

            def change():
                self._take(sku, src, state, qty, reserved)
                self._quant(sku, dst, state)[0] += qty
            self._apply(allowed, lambda: inventory.move(products[sku], places[src], places[dst], qty, actor=actor,
                                                        state=state, reserved=reserved), change)

        @rule(sku=skus, location=locations, qty=quantities)
        def reserve(self, sku, location, qty):
            allowed = qty > 0 and self._free(sku, location, "available") >= qty
            self._apply(allowed, lambda: inventory.reserve(products[sku], places[location], qty, actor=actor),
                        lambda: self._quant(sku, location, "available").__setitem__(
                            1, self._quant(sku, location, "available")[1] + qty))

        @rule(sku=skus, location=locations, qty=quantities)
        def release(self, sku, location, qty):
            have = self.model.get((sku, location, "available"), (0, 0))[1]
            allowed = qty > 0 and have >= qty
            self._apply(allowed, lambda: inventory.release(products[sku], places[location], qty, actor=actor),
                        lambda: self._quant(sku, location, "available").__setitem__(
                            1, self._quant(sku, location, "available")[1] - qty))

        @rule(sku=skus, location=locations, state=states, qty=quantities,
              reserved=st.integers(min_value=0, max_value=5))
        def ship(self, sku, location, state, qty, reserved):
            allowed = self._can_take(sku, location, state, qty, reserved)
            self._apply(allowed, lambda: inventory.issue(products[sku], places[location], qty, actor=actor,
                                                         state=state, reserved=reserved),
                        lambda: self._take(sku, location, state, qty, reserved))

        @rule(sku=skus, location=locations, state=states, delta=st.integers(min_value=-25, max_value=25))
        def adjust(self, sku, location, state, delta):
            allowed = delta > 0 or (delta < 0 and self._free(sku, location, state) >= -delta)

            def change():
                if delta > 0:
                    self._quant(sku, location, state)[0] += delta
                else:
                    self._take(sku, location, state, -delta)
            self._apply(allowed, lambda: inventory.adjust(products[sku], places[location], delta, actor=actor,
                                                          reason="count", state=state), change)

        @rule(sku=skus, location=locations, qty=quantities, to_damaged=st.booleans())
        def change_state(self, sku, location, qty, to_damaged):
            source, target = ("available", "damaged") if to_damaged else ("damaged", "available")
            allowed = self._can_take(sku, location, source, qty)

            def change():
                self._take(sku, location, source, qty)
                self._quant(sku, location, target)[0] += qty
            self._apply(allowed, lambda: inventory.change_state(products[sku], places[location], qty, source, target,
                                                                actor=actor, reason="qc"), change)

        # --- what must always hold ---
        @invariant()
        def quants_equal_the_ledger(self):
            assert inventory.audit() == []

        @invariant()
        def quants_equal_the_model_and_are_never_negative(self):
            found = self._database()
            assert found == {k: v for k, v in self.model.items() if v != [0, 0]}
            for quant in Quant.select():
                assert quant.qty >= 0 and 0 <= quant.reserved <= quant.qty, (quant.qty, quant.reserved)

    return Ledger


def test_any_sequence_of_stock_operations_keeps_the_ledger(engine, small_warehouse, people):
    machine = ledger_machine(small_warehouse, inventory.Actor(people["receiver"].id))
    run_state_machine_as_test(machine, settings=settings(
        max_examples=EXAMPLES[engine], stateful_step_count=30, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]))
