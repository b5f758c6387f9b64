// Starts the real server (`target/debug/plenum serve --demo`, built beforehand — this builds
// nothing) with a temporary data directory on a free port, and waits for /readyz.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

/** `{ url, stop() }` of a fresh demo server; `env`: settings for it (e.g. `PLENUM_RULE_SET`). */
export async function startServer({ demo = true, env = {} } = {}) {
  const binary = process.env.PLENUM_BIN ?? join(REPO, "target/debug/plenum");
  if (!existsSync(binary)) {
    throw new Error(`${binary} is missing: run \`cargo build -p plenum-server\` first`);
  }
  const dataDir = mkdtempSync(join(tmpdir(), "plenum-web-"));
  const port = await freePort();
  const args = ["serve", "--bind", `127.0.0.1:${port}`, "--web-dir", join(REPO, "web")];
  if (demo) args.push("--demo");
  const log = [];
  const child = spawn(binary, args, {
    cwd: dataDir,
    env: {
      ...process.env,
      PLENUM_DATA_DIR: dataDir,
      PLENUM_LOG: process.env.PLENUM_LOG ?? "plenum=warn",
      PLENUM_CONFIG: "",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (chunk) => log.push(chunk.toString()));
  child.stderr.on("data", (chunk) => log.push(chunk.toString()));
  let exited = null;
  child.on("exit", (code) => {
    exited = code;
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== null) {
      throw new Error(`plenum exited with ${exited}:\n${log.join("")}`);
    }
    try {
      const response = await fetch(`${url}/readyz`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`plenum did not become ready:\n${log.join("")}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    log,
    async stop() {
      if (exited === null) {
        const done = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await done;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
