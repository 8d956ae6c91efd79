"""The one way a status column changes: a declared edge and a guarded UPDATE.

Each stateful noun declares its allowed transitions as a set of ``(from, to)`` pairs beside its
model (``models/orders.py``, ``models/waves.py``, ``models/printing.py`` ...) and its lifecycle
module wraps them in a :class:`Lifecycle`. A move checks the edge and then updates the row only
where it still has the status the caller read (``UPDATE t SET status = ? ... WHERE id = ? AND
status = ?``): of two writers moving the same row at the same moment, the second is refused
with :class:`InvalidTransition` instead of overwriting the first. :meth:`Lifecycle.move_many`
is the same for many rows in one status (a wave's ten thousand orders).

The statements are written out (see server.db.sql): the picking scan path moves a task or a
line on most scans, and building a peewee query cost more than its SQL.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from server.db import sql
from server.models.base import BaseModel
from server.services.errors import InvalidTransition

CHUNK = 500  # ids per IN (...) list


@dataclass(frozen=True)
class Lifecycle:
    """The declared edges of one noun's status column and the guarded moves along them."""
    noun: str                  # the name a refusal gives: order, wave, task, pick_line, print_job, package
    model: type[BaseModel]
    edges: frozenset
    column: str = "status"

    @property
    def states(self) -> frozenset:
        return frozenset(state for edge in self.edges for state in edge)

    def allows(self, current: str, target: str) -> bool:
        return (current, target) in self.edges

    def check(self, current: str, target: str) -> None:
        """Raise :class:`InvalidTransition` unless ``current -> target`` is declared."""
        if (current, target) not in self.edges:
            raise InvalidTransition(self.noun, current, target)

    def move(self, row_id: int, current: str, target: str, *, guard: tuple[str, tuple] = ("", ()),
             **values) -> None:
        """``current -> target`` for one row, with other columns set in the same statement
        (``started_at=...``); raises when the edge is not declared or the row is no longer
        in ``current`` (or no longer meets ``guard``, a condition with its parameters:
        ``("claimed_by = ?", (worker,))``)."""
        if not self.move_if(row_id, current, target, guard=guard, **values):
            raise InvalidTransition(self.noun, current, target)

    def move_if(self, row_id: int, current: str, target: str, *, guard: tuple[str, tuple] = ("", ()),
                **values) -> bool:
        """:meth:`move` for a step that may already have been taken: whether this call moved the
        row. An edge that is not declared still raises; only a row that someone else moved
        first answers False (the second of two devices finishing the same wave)."""
        self.check(current, target)
        assignments, params = self._assignments(target, values)
        condition, guard_params = guard
        extra = f" AND ({condition})" if condition else ""
        rows = sql(f'UPDATE "{self.model._meta.table_name}" SET {assignments} WHERE id = ?'
                   f' AND "{self.column}" = ?{extra}', *params, row_id, current, *guard_params).rowcount
        return rows == 1

    def move_many(self, row_ids: Iterable[int], current: str, target: str, *, exact: bool = True,
                  **values) -> int:
        """``current -> target`` for many rows in one status, ``CHUNK`` ids a statement; returns
        how many moved. With ``exact`` (the default) a row no longer in ``current`` raises, and
        the caller's transaction rolls every move back."""
        self.check(current, target)
        ids = list(row_ids)
        assignments, params = self._assignments(target, values)
        moved = 0
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            marks = ", ".join("?" * len(chunk))
            moved += sql(f'UPDATE "{self.model._meta.table_name}" SET {assignments} WHERE id IN ({marks})'
                         f' AND "{self.column}" = ?', *params, *chunk, current).rowcount
        if exact and moved != len(ids):
            raise InvalidTransition(self.noun, current, target)
        return moved

    def _assignments(self, target: str, values: dict) -> tuple[str, list]:
        names = [self.column] + sorted(values)
        fields = self.model._meta.fields
        params = [target] + [fields[name].db_value(values[name]) for name in names[1:]]
        return ", ".join(f'"{fields[name].column_name}" = ?' for name in names), params
