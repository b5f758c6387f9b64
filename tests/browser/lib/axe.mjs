// Runs axe-core (WCAG 2.1 A/AA rules) in a page and returns its violations.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export async function axeViolations(page) {
  // Injected through the DevTools protocol, which the page's CSP does not apply to. axe itself
  // adds a <style> the CSP refuses; `watchErrors` ignores messages while `page.plenumAxe` is set.
  page.plenumAxe = true;
  try {
    return await run(page);
  } finally {
    await page.waitForTimeout(100);
    page.plenumAxe = false;
  }
}

async function run(page) {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
    }));
  });
  return result;
}

export function formatViolations(violations) {
  return violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.join("\n    ")}`).join("\n");
}
