// RFC 6238 TOTP (SHA-1, 6 digits, 30 s) for the demo accounts, whose secret is derived like
// `demo_totp_secret` in crates/server/src/demo/data.rs: SHA-256("plenum-demo-totp:" + name)[..20].

import { createHash, createHmac } from "node:crypto";

export function demoSecret(username) {
  return createHash("sha256").update(`plenum-demo-totp:${username}`).digest().subarray(0, 20);
}

export function totp(secret, time = Date.now(), step = 30) {
  const counter = Math.floor(time / 1000 / step);
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac("sha1", secret).update(message).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(value).padStart(6, "0");
}

/** The demo account's code for a 30-second step `offset` steps from now (each step is usable once). */
export function demoCode(username, offset = 0) {
  return totp(demoSecret(username), Date.now() + offset * 30_000);
}
