"""PostgreSQL: a group of picking scans takes the pick faces' units at its end, not scan by scan.

A tote scan moves units out of a pick face into the tote: it updates the face's stock row
(``quant``), which locks that row until the transaction commits. In a group of scans
(``wf_pick_scans``, migration 0023) that was from the scan until the whole group committed. With
two serving processes, a group that wanted a face the other process's group had taken waited for
that group's commit, and all its scans waited with it: in tests/bench/bench_scans.py
``--servers 2``, a third of the database's busy samples were such waits, every one on ``quant``,
and two processes took fewer scans a second than one.

Now a scan reads the face's stock without locking it, checks the units it takes against that
stock less what the group's scans before it took, and answers; the group updates each face it
took from once, at its end, lowest id first (``wf_take_faces``), so a face is locked only while
the group commits. That update keeps the guard (free units, reserved units): if another
transaction took the units between the scan's look and the group's end, the update finds no row
and the statement fails as a whole with ``WF000``, and each of its scans runs again on the Python
path (services/scenarios/picking_direct.py), which answers as it always has. Nothing is written
twice and nothing oversold: the function writes nothing that survives that failure.

- ``wf_pick_scan_in_group``: migration 0021's scan, but it takes the group's takes so far
  (``p_taken``: a face's quant id -> [units, reserved units, product, location]) and answers the
  face it takes from and how much, instead of updating it. A face's headroom above its
  replenishment minimum counts the group's takes too.
- ``wf_pick_scan``: one scan, the face taken at its end (the same answer and rows as before).
- ``wf_pick_scans``: the group, as migration 0023's, with the faces taken at its end. A face that
  another transaction holds is waited for up to a second (it commits within milliseconds; the
  scans' own rows keep their 50 ms).

Frozen: a later change ships a new migration that replaces these functions.
"""

import importlib.util
from pathlib import Path

# the task's current line with what the scan needs of it (the picking scenario's LINE_COLUMNS), read
# as the scan starts and again for the answer after a tote scan
CURRENT_LINE = """SELECT pl.id, pl.seq, pl.order_id, pl.order_line_id, pl.allocation_id, pl.lot, pl.qty, pl.picked_qty, pl.moved_qty,
       pl.short_qty, pl.slot, pl.tote, pl.status, p.id AS product_id, p.sku, p.name, p.spec, p.unit,
       loc.id AS location_id, loc.code AS location_code, loc.warehouse_id,
       (SELECT b.tote FROM pick_line b WHERE b.task_id = pl.task_id AND b.slot = pl.slot AND b.tote <> '' LIMIT 1)
         AS slot_tote,
       EXISTS (SELECT 1 FROM replenishment_task r WHERE r.face_id = pl.location_id AND r.product_id = pl.product_id
               AND r.status IN ('open', 'assigned', 'moving')) AS replenishing,
       (SELECT COALESCE((SELECT SUM(q.qty) FROM quant q WHERE q.product_id = pf.product_id
                         AND q.location_id = pf.location_id AND q.state = 'available'), 0) - pf.min_qty
          FROM pick_face pf WHERE pf.location_id = pl.location_id AND pf.product_id = pl.product_id
           AND pf.min_qty > 0 AND NOT EXISTS (SELECT 1 FROM replenishment_task r WHERE r.face_id = pf.location_id
               AND r.product_id = pf.product_id AND r.status IN ('open', 'assigned', 'moving')) LIMIT 1)
         AS face_headroom
  INTO l FROM pick_line pl JOIN product p ON p.id = pl.product_id JOIN location loc ON loc.id = pl.location_id
 WHERE pl.id = (SELECT c.id FROM pick_line c WHERE c.task_id = t.id
                  AND (c.status = 'open' OR c.status = 'skipped' OR c.status = 'located')
                ORDER BY c.seq, c.id LIMIT 1);"""

STEP = r"""
CREATE OR REPLACE FUNCTION wf_pick_scan_in_group(p_user integer, p_device integer, p_key text, p_code text,
                                                 p_lang text, p_taken jsonb, OUT stored text, OUT progress integer,
                                                 OUT order_changed integer, OUT face_quant integer, OUT face_qty integer,
                                                 OUT face_reserved integer, OUT face_product integer,
                                                 OUT face_location integer)
LANGUAGE plpgsql AS $fn$
#variable_conflict use_variable
DECLARE
  t record;                 -- the picker's task and its wave
  l record;                 -- the task's current line, read as the scan found it
  v_pending integer;
  v_remaining integer;
  v_state text;
  v_code text := NULL;      -- the answer's message code
  v_refused json := NULL;   -- a refusal's values
  v_item record;
  v_tote record;
  v_bound text;
  v_now timestamp := now() AT TIME ZONE 'UTC';
  v_task_json json;
  v_line_json json;
  v_level text := 'info';
  v_ok boolean := true;
  v_left integer;
  v_take integer;
  v_reserved integer := 0;
  v_finished boolean;
  v_open boolean;
  v_rows integer;
  a record;
  v_order_status text;
  v_face record;            -- the face's stock as committed, before the group's takes
  v_taken_qty integer := 0;
  v_taken_reserved integer := 0;
BEGIN
  progress := NULL;
  order_changed := NULL;
  face_quant := NULL;
  SELECT tk.id, tk.code, tk.status, tk.picker_id, tk.device_id, tk.seq, tk.metres, tk.lines_total, tk.lines_done,
         tk.units_total, tk.units_done, w.id AS wave_id, w.code AS wave_code, w.strategy, w.status AS wave_status,
         w.warehouse_id
    INTO t FROM pick_task tk JOIN wave w ON w.id = tk.wave_id
   WHERE tk.picker_id = p_user AND (tk.status = 'assigned' OR tk.status = 'in_progress')
   ORDER BY tk.assigned_at, tk.id LIMIT 1;
  IF NOT FOUND OR t.wave_status = 'paused' OR p_code = '' THEN
    RAISE EXCEPTION 'not a usual scan' USING ERRCODE = 'WF000';
  END IF;
  {CURRENT_LINE}
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no line left' USING ERRCODE = 'WF000';
  END IF;
  IF l.face_headroom IS NOT NULL AND p_taken <> '{}'::jsonb THEN  -- the group's takes at this face are not written yet
    l.face_headroom := l.face_headroom - (SELECT COALESCE(SUM((e.value->>0)::integer), 0) FROM jsonb_each(p_taken) e
                                           WHERE (e.value->>2)::integer = l.product_id
                                             AND (e.value->>3)::integer = l.location_id);
  END IF;

  v_pending := l.picked_qty - l.moved_qty;
  v_remaining := l.qty - l.short_qty - l.moved_qty;
  v_bound := CASE WHEN l.tote <> '' THEN l.tote ELSE l.slot_tote END;
  IF l.status IN ('open', 'skipped') THEN
    v_state := 'scan_location';
  ELSIF v_pending = 0 THEN
    v_state := 'scan_item';
  ELSE
    v_state := 'scan_tote';  -- or qty: either way an item or the tote may come next
  END IF;

  IF v_state = 'scan_location' THEN
    IF p_code <> l.location_code THEN
      v_code := 'wrong_location';
      v_refused := json_build_object('scanned', p_code, 'expected', l.location_code);
    ELSIF l.replenishing THEN
      RAISE EXCEPTION 'the face waits for a replenishment' USING ERRCODE = 'WF000';
    ELSE
      IF t.status = 'assigned' THEN  -- the task's first scan starts it, and its wave
        UPDATE pick_task SET status = 'in_progress', started_at = v_now WHERE id = t.id AND status = 'assigned';
        GET DIAGNOSTICS v_rows = ROW_COUNT;
        IF v_rows = 1 THEN
          t.status := 'in_progress';
        END IF;
        IF t.wave_status = 'released' THEN
          UPDATE wave SET status = 'picking' WHERE id = t.wave_id AND status = 'released';
          GET DIAGNOSTICS v_rows = ROW_COUNT;
          IF v_rows = 1 THEN
            t.wave_status := 'picking';
          END IF;
        END IF;
      END IF;
      UPDATE pick_line SET status = 'located' WHERE id = l.id AND status = l.status;
      GET DIAGNOSTICS v_rows = ROW_COUNT;
      IF v_rows <> 1 THEN
        RAISE EXCEPTION 'the line moved' USING ERRCODE = 'WF000';
      END IF;
      l.status := 'located';
      v_code := 'location_ok';
    END IF;
  ELSIF NOT (v_pending > 0 AND p_code IS NOT DISTINCT FROM v_bound) THEN
    SELECT b.product_id, b.multiplier, 0 AS rank INTO v_item FROM barcode b WHERE b.code = p_code
    UNION ALL SELECT p.id, 1, 1 FROM product p WHERE p.sku = p_code ORDER BY 3 LIMIT 1;
    IF NOT FOUND AND (left(p_code, 1) IN ('(', ']') OR strpos(p_code, chr(29)) > 0
                      OR (left(p_code, 2) = '01' AND p_code ~ '^[0-9]{16}')) THEN
      RAISE EXCEPTION 'a GS1 code' USING ERRCODE = 'WF000';
    END IF;
    IF NOT FOUND THEN
      IF p_code = l.location_code THEN
        v_code := 'location_ok';  -- the location scanned twice: no harm
      ELSIF v_state = 'scan_item' THEN
        IF EXISTS (SELECT 1 FROM location WHERE code = p_code) THEN
          v_code := 'wrong_item';
          v_refused := json_build_object('scanned', p_code, 'expected', l.sku);
        ELSE
          v_code := 'unknown_barcode';
          v_refused := json_build_object('scanned', p_code);
        END IF;
      END IF;
      -- else: a tote, below
    ELSIF v_item.product_id <> l.product_id THEN
      v_code := 'wrong_item';
      v_refused := json_build_object('scanned', p_code, 'expected', l.sku);
    ELSIF v_pending + v_item.multiplier > v_remaining THEN
      v_code := 'over_pick';
      v_refused := json_build_object('counted', v_pending, 'adding', v_item.multiplier, 'remaining', v_remaining);
    ELSE
      UPDATE pick_line SET picked_qty = l.picked_qty + v_item.multiplier WHERE id = l.id AND picked_qty = l.picked_qty;
      GET DIAGNOSTICS v_rows = ROW_COUNT;
      IF v_rows <> 1 THEN
        RAISE EXCEPTION 'the line moved' USING ERRCODE = 'WF000';
      END IF;
      l.picked_qty := l.picked_qty + v_item.multiplier;
      v_code := 'item_counted';
    END IF;
  END IF;

  IF v_code IS NULL THEN  -- the tote: the units in hand go into it
    SELECT id, warehouse_id, active INTO v_tote FROM location WHERE code = p_code AND kind = 'tote';
    IF NOT FOUND OR NOT v_tote.active OR v_tote.warehouse_id <> l.warehouse_id THEN
      IF v_bound IS NULL THEN
        v_code := CASE WHEN l.slot <> 0 THEN 'empty_tote_for_slot' ELSE 'empty_tote' END;
        v_refused := json_build_object('scanned', p_code, 'slot', l.slot);
      ELSE
        v_code := 'wrong_tote';
        v_refused := json_build_object('scanned', p_code, 'expected', v_bound);
      END IF;
    ELSIF v_bound IS NOT NULL AND v_bound <> p_code THEN
      v_code := 'wrong_tote';
      v_refused := json_build_object('scanned', p_code, 'expected', v_bound);
    ELSIF v_bound IS NULL AND (EXISTS (SELECT 1 FROM pick_line WHERE task_id = t.id AND tote = p_code AND slot <> l.slot)
                               OR EXISTS (SELECT 1 FROM quant WHERE location_id = v_tote.id AND qty > 0)) THEN
      v_code := CASE WHEN l.slot <> 0 THEN 'empty_tote_for_slot' ELSE 'empty_tote' END;
      v_refused := json_build_object('scanned', p_code, 'slot', l.slot, 'in_use', true);
    ELSIF l.face_headroom IS NOT NULL AND l.face_headroom - v_pending < 0 THEN
      RAISE EXCEPTION 'the face goes below its minimum' USING ERRCODE = 'WF000';
    ELSIF l.status <> 'located' THEN
      RAISE EXCEPTION 'the line is not located' USING ERRCODE = 'WF000';
    ELSE
      -- the reservations the units use up: the line's own, or a batch line's orders' at the location
      v_left := v_pending;
      FOR a IN SELECT al.id, al.line_id, al.qty FROM allocation al
                WHERE l.allocation_id IS NOT NULL AND al.id = l.allocation_id
               UNION ALL
               SELECT al.id, al.line_id, al.qty FROM allocation al JOIN order_line ol ON ol.id = al.line_id
                 JOIN wave_order wo ON wo.order_id = ol.order_id
                WHERE l.allocation_id IS NULL AND l.order_line_id IS NULL AND wo.wave_id = t.wave_id
                  AND ol.product_id = l.product_id AND al.location_id = l.location_id AND al.lot = l.lot
               ORDER BY 1 DESC LOOP
        EXIT WHEN v_left <= 0;
        v_take := least(v_left, a.qty);
        CONTINUE WHEN v_take <= 0;
        IF v_take = a.qty THEN
          DELETE FROM allocation WHERE id = a.id;
        ELSE
          UPDATE allocation SET qty = qty - v_take WHERE id = a.id;
        END IF;
        IF l.order_line_id IS NULL THEN
          UPDATE order_line SET reserved_qty = reserved_qty - v_take, picked_qty = picked_qty + v_take
           WHERE id = a.line_id;
        ELSE
          UPDATE order_line SET reserved_qty = reserved_qty - v_take WHERE id = a.line_id;
        END IF;
        v_reserved := v_reserved + v_take;
        v_left := v_left - v_take;
      END LOOP;
      -- the stock move: the face's units are checked against its stock less what the group took
      -- before, and taken by the caller at the group's end (wf_take_faces)
      SELECT q.id, q.qty, q.reserved INTO v_face FROM quant q
       WHERE q.product_id = l.product_id AND q.location_id = l.location_id AND q.lot = l.lot AND q.state = 'available';
      IF NOT FOUND THEN
        RAISE EXCEPTION 'no stock at the location' USING ERRCODE = 'WF000';
      END IF;
      v_taken_qty := COALESCE((p_taken->(v_face.id::text)->>0)::integer, 0);
      v_taken_reserved := COALESCE((p_taken->(v_face.id::text)->>1)::integer, 0);
      IF NOT ((v_face.qty - v_taken_qty) - (v_face.reserved - v_taken_reserved) >= v_pending - v_reserved
              AND v_face.reserved - v_taken_reserved >= v_reserved) THEN
        RAISE EXCEPTION 'not enough free stock at the location' USING ERRCODE = 'WF000';
      END IF;
      face_quant := v_face.id;
      face_qty := v_pending;
      face_reserved := v_reserved;
      face_product := l.product_id;
      face_location := l.location_id;
      INSERT INTO quant (product_id, location_id, lot, state, qty, reserved)
      VALUES (l.product_id, v_tote.id, l.lot, 'available', v_pending, 0)
      ON CONFLICT (product_id, location_id, lot, state) DO UPDATE SET qty = quant.qty + excluded.qty;
      INSERT INTO stock_move (product_id, lot, qty, reserved, from_location_id, from_state, to_location_id, to_state,
                              reason, ref, user_id, device_id, at)
      VALUES (l.product_id, l.lot, v_pending, -v_reserved, l.location_id, 'available', v_tote.id, 'available',
              'pick', 'pick:' || l.id, p_user, p_device, v_now);
      IF l.order_line_id IS NOT NULL THEN
        UPDATE order_line SET picked_qty = picked_qty + v_pending WHERE id = l.order_line_id;
        SELECT status INTO v_order_status FROM "order" WHERE id = l.order_id;
        IF v_order_status = 'waved' THEN  -- the order's first unit picked
          UPDATE "order" SET status = 'picking', updated_at = v_now WHERE id = l.order_id AND status = 'waved';
          GET DIAGNOSTICS v_rows = ROW_COUNT;
          IF v_rows <> 1 THEN
            RAISE EXCEPTION 'the order moved' USING ERRCODE = 'WF000';
          END IF;
          INSERT INTO order_event (order_id, at, user_id, action, detail)
          VALUES (l.order_id, v_now, p_user, 'picking', 'first unit picked');
          order_changed := l.order_id;
        END IF;
      END IF;
      v_finished := l.moved_qty + v_pending + l.short_qty >= l.qty;
      IF v_finished THEN
        UPDATE pick_line SET status = CASE WHEN l.short_qty > 0 THEN 'short' ELSE 'done' END, moved_qty = l.moved_qty + v_pending,
                             tote = p_code
         WHERE id = l.id AND status = 'located';
        GET DIAGNOSTICS v_rows = ROW_COUNT;
        IF v_rows <> 1 THEN
          RAISE EXCEPTION 'the line moved' USING ERRCODE = 'WF000';
        END IF;
      ELSE
        UPDATE pick_line SET moved_qty = l.moved_qty + v_pending, tote = p_code WHERE id = l.id;
      END IF;
      UPDATE pick_task SET units_done = units_done + v_pending, lines_done = lines_done + CASE WHEN v_finished THEN 1 ELSE 0 END
       WHERE id = t.id
       RETURNING status, lines_total, lines_done, units_total, units_done,
                 EXISTS (SELECT 1 FROM pick_line WHERE task_id = t.id AND (status = 'open' OR status = 'skipped' OR status = 'located'))
            INTO t.status, t.lines_total, t.lines_done, t.units_total, t.units_done, v_open;
      IF NOT v_open THEN
        RAISE EXCEPTION 'the task''s last line' USING ERRCODE = 'WF000';
      END IF;
      progress := t.wave_id;
      v_code := 'line_picked';
      -- the answer shows the task's next line
      {CURRENT_LINE}
    END IF;
  END IF;

  IF v_refused IS NOT NULL THEN
    v_ok := false;
    v_level := 'error';
  END IF;
  v_task_json := json_build_array(t.id, t.code, t.status, t.picker_id, t.device_id, t.seq, t.metres, t.lines_total,
                                  t.lines_done, t.units_total, t.units_done, t.wave_id, t.wave_code, t.strategy,
                                  t.wave_status, t.warehouse_id);
  v_line_json := json_build_array(l.id, l.seq, l.order_id, l.order_line_id, l.allocation_id, l.lot, l.qty,
                                  l.picked_qty, l.moved_qty, l.short_qty, l.slot, l.tote, l.status, l.product_id,
                                  l.sku, l.name, l.spec, l.unit, l.location_id, l.location_code, l.warehouse_id,
                                  l.slot_tote, l.replenishing, l.face_headroom);
  stored := json_build_object('render', 'picking', 'ok', v_ok, 'code', v_code, 'level', v_level, 'lang', p_lang,
                              'refused', v_refused, 'task', v_task_json, 'line', v_line_json)::text;
  INSERT INTO command_result ("key", user_id, scenario, action, result, at)
  VALUES (p_key, p_user, 'picking', 'scan', stored, v_now);
END
$fn$;
""".replace("{CURRENT_LINE}", CURRENT_LINE)

TAKE = r"""
CREATE OR REPLACE FUNCTION wf_take_faces(p_taken jsonb) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  f record;
  v_rows integer;
BEGIN
  FOR f IN SELECT e.key::integer AS id, (e.value->>0)::integer AS took, (e.value->>1)::integer AS took_reserved
             FROM jsonb_each(p_taken) e ORDER BY 1 LOOP
    UPDATE quant SET qty = qty - f.took, reserved = reserved - f.took_reserved
     WHERE id = f.id AND qty - reserved >= f.took - f.took_reserved AND reserved >= f.took_reserved;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    IF v_rows <> 1 THEN
      RAISE EXCEPTION USING ERRCODE = 'WF000', MESSAGE = 'the stock of quant ' || f.id || ' changed under the scans';
    END IF;
  END LOOP;
END
$fn$;
"""

SINGLE = r"""
CREATE OR REPLACE FUNCTION wf_pick_scan(p_user integer, p_device integer, p_key text, p_code text,
                                        p_lang text, OUT stored text, OUT progress integer,
                                        OUT order_changed integer)
LANGUAGE plpgsql AS $fn$
DECLARE
  s record;
BEGIN
  SELECT * INTO s FROM wf_pick_scan_in_group(p_user, p_device, p_key, p_code, p_lang, '{}'::jsonb);
  stored := s.stored;
  progress := s.progress;
  order_changed := s.order_changed;
  IF s.face_quant IS NOT NULL THEN
    PERFORM wf_take_faces(jsonb_build_object(s.face_quant::text, jsonb_build_array(
      s.face_qty, s.face_reserved, s.face_product, s.face_location)));
  END IF;
END
$fn$;
"""

GROUP = r"""
CREATE OR REPLACE FUNCTION wf_pick_scans(p_calls json)
RETURNS TABLE (n integer, stored text, progress integer, order_changed integer, failed_state text,
               failed_message text)
LANGUAGE plpgsql SET lock_timeout = '50ms' AS $fn$
#variable_conflict use_column
DECLARE
  c record;
  s record;
  v_taken jsonb := '{}'::jsonb;  -- the faces the group's scans took from, not written yet
  v_was jsonb;
BEGIN
  FOR c IN SELECT (x.i - 1)::integer AS i, x.e FROM json_array_elements(p_calls) WITH ORDINALITY AS x(e, i) LOOP
    n := c.i;
    stored := NULL;
    progress := NULL;
    order_changed := NULL;
    failed_state := NULL;
    failed_message := NULL;
    BEGIN
      SELECT * INTO s FROM wf_pick_scan_in_group((c.e->>0)::integer, (c.e->>1)::integer, c.e->>2, c.e->>3,
                                                 c.e->>4, v_taken);
      stored := s.stored;
      progress := s.progress;
      order_changed := s.order_changed;
      IF s.face_quant IS NOT NULL THEN
        v_was := v_taken->(s.face_quant::text);
        v_taken := v_taken || jsonb_build_object(s.face_quant::text, jsonb_build_array(
          COALESCE((v_was->>0)::integer, 0) + s.face_qty, COALESCE((v_was->>1)::integer, 0) + s.face_reserved,
          s.face_product, s.face_location));
      END IF;
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS failed_state = RETURNED_SQLSTATE, failed_message = MESSAGE_TEXT;
    END;
    RETURN NEXT;
  END LOOP;
  PERFORM set_config('lock_timeout', '1s', true);  -- until the function returns
  PERFORM wf_take_faces(v_taken);
END
$fn$;
"""

# one text, as server/schema.py runs a migration's FUNCTION: the step first, the two that call it after
FUNCTION = STEP + TAKE + SINGLE + GROUP
EARLIER = ("0021_pick_scan_function.py", "0023_pick_scans_together.py")


def up(migrator, db):
    if db.param == "%s":  # PostgreSQL; SQLite's scans stay on the Python path
        db.execute_sql(FUNCTION)


def down(migrator, db):
    if db.param == "%s":
        for name in EARLIER:  # the functions as those migrations made them
            spec = importlib.util.spec_from_file_location(f"migration_{name[:-3]}", Path(__file__).with_name(name))
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            db.execute_sql(module.FUNCTION)
        db.execute_sql("DROP FUNCTION IF EXISTS wf_take_faces(jsonb)")
        db.execute_sql("DROP FUNCTION IF EXISTS wf_pick_scan_in_group(integer, integer, text, text, text, jsonb)")
