// The demo council's fixed ids, as the server derives them.

import { createHash } from "node:crypto";

/** `demo_id` of crates/server/src/demo/mod.rs: UUIDv5 in the demo namespace. */
export function demoId(name) {
  const namespace = Buffer.from("6d757374657273746164740000000001", "hex");
  const hash = createHash("sha1").update(namespace).update(name).digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const h = hash.subarray(0, 16).toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
