// The returns bench (退货台): every scan is a `returns` command over Socket.IO for this bench.
// The server answers with the bench's whole state; this page only draws it: the open parcel with
// its order's lines, the condition buttons for a scanned unit, the units received so far.
// Scans come from a keyboard-wedge scanner typing into the focused scan field (a burst of keys
// and Enter), or from a kiosk calling window.wavefloorScan(code).
import { $, field, focusScan, stationSession, wireScanField } from "/static/station.js";

const { page, t, command, answer, boot } = stationSession({
  name: "returns", scenario: "returns", tokenUrl: "/returns/bench/socket-token", doneCodes: ["parcel_done"],
  render,
  fromSnapshot: (snapshot) => {
    const { state, data } = snapshot.returns || { state: "scan_parcel", data: { station: page.station } };
    return [state, data];
  },
});
page.notFound = "";  // the code the server found no order for: it may be kept as an unknown parcel

// --- scans ----------------------------------------------------------------------------------------
function handle(raw) {
  const code = String(raw ?? "").trim();
  if (!code || !page.token) return;
  command("scan", { code }, (result) => {
    page.notFound = !result.ok && result.message?.code === "return_not_found" ? code : "";
    answer(result);
  });
}
window.wavefloorScan = (code) => handle(code);

function choose(condition) {
  const item = page.state?.data?.item;
  if (!item) return;
  command("condition", { code: item.code, condition });
}

function keepUnknown() {
  const code = page.notFound;
  page.notFound = "";
  command("open_unknown", { code, note: $("unknown-note").value.trim() });
  $("unknown-note").value = "";
}

// --- drawing the state ----------------------------------------------------------------------------
function render(name, data) {
  page.state = { name, data };
  $("panel").dataset.state = name;
  $("prompt").textContent = t(name);
  const parcel = data.parcel;
  drawParcel(parcel);
  drawLines(parcel?.lines || [], parcel);
  drawUnits(parcel?.units || []);
  $("conditions").hidden = name !== "condition";
  if (name === "condition" && data.item) {
    $("item").textContent = `${data.item.sku} ${data.item.name}${data.item.qty > 1 ? ` × ${data.item.qty}` : ""}`;
  }
  $("unknown-box").hidden = !(name === "scan_parcel" && page.notFound);
  $("search-form").hidden = name !== "scan_parcel";
  drawFound(name === "scan_parcel" ? data.found : null);
  $("close").hidden = !parcel;
  $("note-form").hidden = !parcel;
  if (parcel && document.activeElement !== $("note")) $("note").value = parcel.note || "";
  focusScan();
}

function drawParcel(parcel) {
  $("parcel").hidden = !parcel;
  if (!parcel) return;
  const boxes = [field(t("parcel"), parcel.code, "code")];
  if (parcel.unknown) boxes.push(field(t("order"), t("unknown_parcel"), "unknown"));
  else boxes.push(field(t("order"), `${parcel.order.external_id} · ${parcel.order.shop}`, "order"));
  if (parcel.tracking) boxes.push(field(t("tracking"), parcel.tracking, "tracking"));
  $("parcel").replaceChildren(...boxes);
}

function drawLines(lines) {
  $("lines").hidden = !lines.length;
  $("lines").querySelector("tbody").replaceChildren(...lines.map((line) => {
    const row = document.createElement("tr");
    row.dataset.sku = line.sku;
    row.className = line.returned >= line.qty ? "done" : "";
    const cells = [line.sku, line.name, `${line.returned} / ${line.qty}`,
                   line.refund_status === "none" ? "" : `${line.refund_status} ${(line.refund_fen / 100).toFixed(2)}`];
    cells.forEach((value, index) => {
      const cell = document.createElement("td");
      cell.textContent = value;
      if (index === 2) cell.className = "n count";
      row.append(cell);
    });
    return row;
  }));
}

function drawUnits(units) {
  $("units-box").hidden = !units.length;
  $("units").replaceChildren(...units.map((unit) => {
    const item = document.createElement("li");
    item.className = `unit ${unit.condition}`;
    item.textContent = `${unit.sku} × ${unit.qty} · ${t(`cond_${unit.condition}`)}`;
    return item;
  }));
}

// Orders found by the buyer (masked unless the user may read buyers' data): opening one is as
// if its number had been scanned.
function drawFound(found) {
  $("found").hidden = !found;
  if (!found) return;
  $("found").querySelector("tbody").replaceChildren(...found.map((order) => {
    const row = document.createElement("tr");
    for (const value of [order.external_id, order.buyer_nick, order.receiver_name, order.receiver_phone]) {
      const cell = document.createElement("td");
      cell.textContent = value;
      row.append(cell);
    }
    const cell = document.createElement("td");
    const open = document.createElement("button");
    open.type = "button";
    open.className = "small";
    open.textContent = t("open");
    open.addEventListener("click", () => handle(order.external_id));
    cell.append(open);
    row.append(cell);
    return row;
  }));
}

// --- wiring -------------------------------------------------------------------------------------
boot(() => {
  wireScanField(handle);
  for (const button of document.querySelectorAll("button.cond")) {
    button.addEventListener("click", () => choose(button.dataset.condition));
  }
  $("unknown").addEventListener("click", keepUnknown);
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("search").value.trim();
    if (text.length >= 2) command("search", { text });
    $("search").blur();
  });
  $("close").addEventListener("click", () => command("close"));
  $("note-form").addEventListener("submit", (event) => {
    event.preventDefault();
    command("note", { note: $("note").value.trim() });
    $("note").blur();
  });
});
