// The put wall station (播种墙): every scan is a `putwall` command over Socket.IO for this
// station. The server answers with the station's whole state; this page only draws it: the
// tote, the slot to put the scanned item into (very large) and the wall's slots.
// Scans come from a keyboard-wedge scanner typing into the focused scan field (a burst of keys
// and Enter), or from a kiosk calling window.wavefloorScan(code).
import { $, field, focusScan, stationSession, wireScanField } from "/static/station.js";

const { page, t, command, boot } = stationSession({
  name: "putwall", scenario: "putwall", tokenUrl: "/putwall/socket-token", doneCodes: ["slot_complete", "tote_done"],
  render,
  fromSnapshot: (snapshot) => {
    const { state, ...data } = snapshot.putwall || { state: "scan_tote", station: page.station };
    return [state, data];
  },
  listen: (socket) => socket.on("putwall.progress", progressed),
});

// Another device of this station (or the same one, before its answer) changed a slot.
function progressed(event) {
  if (event.version < page.version || event.station !== page.station || !event.slot) return;
  const cell = document.querySelector(`#slots li[data-slot="${event.slot.slot}"]`);
  if (!cell) return;
  cell.querySelector(".count").textContent = `${event.slot.put} / ${event.slot.expected}`;
  cell.classList.toggle("complete", Boolean(event.slot.complete));
}

// --- scans ----------------------------------------------------------------------------------------
function handle(raw) {
  const code = String(raw ?? "").trim();
  if (!code || !page.token) return;
  command("scan", { code });
}
window.wavefloorScan = (code) => handle(code);

// --- drawing the state ----------------------------------------------------------------------------
function render(name, data) {
  page.state = { name, data };
  $("panel").dataset.state = name;
  $("wall").textContent = data.wall ? `${t("wall")} ${data.wall}` : "";
  const put = name === "put" ? data.put : null;
  $("prompt").textContent = put ? `${t("put")} ${put.slot} · ${t("then_label")}` : t(name === "scan_item" ? "scan_item" : "scan_tote");
  drawTote(data.tote, data.orders);
  drawPut(put);
  drawSlots(data.slots || [], put);
  $("close").hidden = !data.tote;
  focusScan();
}

function drawTote(tote, orders) {
  $("tote").hidden = !tote;
  if (!tote) return;
  $("tote").replaceChildren(
    field(t("tote"), tote.code, "code"), field(t("wave"), tote.wave),
    field(t("units_left"), String(tote.units), "units"),
    field(t("orders_done"), `${orders?.complete ?? 0} / ${orders?.total ?? 0}`, "orders"),
  );
}

function drawPut(put) {
  $("put").hidden = !put;
  if (!put) return;
  $("slot-number").textContent = String(put.slot);
  $("put-item").textContent = `${put.sku} ${put.name} ${put.spec || ""} × ${put.qty}`.replace(/\s+/g, " ");
  $("put-order").textContent = `${t("order")} ${put.order}`;
  $("put-label").textContent = put.label;
}

function drawSlots(slots, put) {
  $("slots").hidden = !slots.length;
  $("slots").replaceChildren(...slots.map((slot) => {
    const cell = document.createElement("li");
    cell.dataset.slot = slot.slot;
    cell.className = ["slot", slot.complete ? "complete" : "", put && put.slot === slot.slot ? "target" : ""].join(" ").trim();
    cell.title = slot.label;
    const number = document.createElement("span");
    number.className = "n";
    number.textContent = String(slot.slot);
    const order = document.createElement("span");
    order.className = "order";
    order.textContent = slot.order;
    const count = document.createElement("span");
    count.className = "count";
    count.textContent = `${slot.put} / ${slot.expected}`;
    cell.append(number, order, count);
    return cell;
  }));
}

// --- wiring -------------------------------------------------------------------------------------
boot(() => {
  wireScanField(handle);
  $("close").addEventListener("click", () => command("close"));
});
