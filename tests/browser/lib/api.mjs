// Talking to the test server's API directly (no browser): signing a demo account in.

import { demoCode } from "./totp.mjs";

/**
 * Signs a demo account in over the API — password, then the TOTP code `offset` steps from now —
 * and returns its access token. TOTP codes are single-use: a browser login of the same account
 * in the same test needs another step.
 */
export async function apiLogin(baseUrl, username, offset = 1) {
  const post = async (path, body) => {
    const r = await fetch(`${baseUrl}${path}`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
    });
    if (r.status !== 200) throw new Error(`${path} for ${username}: ${r.status} ${await r.text()}`);
    return r.json();
  };
  const { mfa_token } = await post("/api/v1/auth/login", { username, password: "Musterstadt-Demo-2026" });
  const { access_token } = await post("/api/v1/auth/totp", { mfa_token, code: demoCode(username, offset) });
  return access_token;
}
