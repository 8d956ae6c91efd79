// Command keys, made by the device once per physical action (docs/protocol.md).
//
// A key is a UUID version 7 (RFC 9562): the first 48 bits are the device's clock in
// milliseconds, the rest random. The server stores every command's result under its key for
// days; keys that grow with time land at the end of that index, where random ones (version 4)
// land on any of its pages, which past a few million results costs every scan a page read and
// a page write. Within one millisecond a 12-bit counter keeps one device's keys in order.
// crypto.getRandomValues only: crypto.randomUUID needs https, which a LAN page may not have.

let lastMs = -1;
let counter = 0;

export function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let ms = Date.now();
  if (ms > lastMs) {
    lastMs = ms;
    counter = ((bytes[6] & 0x07) << 8) | bytes[7];  // a random start with room to count up
  } else if (counter < 0xfff) {
    ms = lastMs;  // the same millisecond, or the clock went back: count on from the last key
    counter += 1;
  } else {
    lastMs += 1;  // 4,096 keys in one millisecond: borrow the next one
    ms = lastMs;
    counter = 0;
  }
  for (let i = 5; i >= 0; i -= 1) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = 0x70 | (counter >> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
