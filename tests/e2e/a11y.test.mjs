// End-to-end: the page is usable by keyboard and screen reader. axe-core (npm, pinned in
// package-lock.json) checks five views in light and dark themes, 0 serious or critical
// violations; a keyboard-only run drops a file through the input, opens a Tor flow's detail
// and exports the JSON report without a mouse; the timeline's brush filters the flow table; the
// printed report has the verdict summary on page 1. Screenshots go to artifacts/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
import { serve, browser, openPage, waitFinished, cli, torCount, shared, artifacts } from "./harness.mjs";

const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
let server, context;
before(async () => { server = await serve(); context = await browser(); });
after(async () => { await context?.close(); server?.close(); });

const torCapture = path.join(shared, "captures/lab/tor-02-client-fetch.pcapng");
const otherCapture = path.join(shared, "captures/public/nontor/ndpi_443-firefox.pcap");

/** axe-core's serious and critical violations on the page as it is now, one line each. */
async function seriousViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.length} nodes, e.g. ${v.nodes[0]?.target.join(" ")} — ${v.help}`);
}

/** Checks the view in both colour schemes and writes a screenshot of each. */
async function checkView(page, name) {
  const found = [];
  for (const scheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const v of await seriousViolations(page)) found.push(`${name} (${scheme}): ${v}`);
    await page.screenshot({ path: path.join(artifacts, `a11y-${name}-${scheme}.png`), fullPage: true });
  }
  await page.emulateMedia({ colorScheme: "light" });
  return found;
}

test("axe-core: no serious or critical violation on five views, light and dark", async () => {
  const { page, errors } = await openPage(context, server.url);
  const found = [...await checkView(page, "empty")];
  await page.click('[data-testid="try-sample"]');
  await waitFinished(page);
  found.push(...await checkView(page, "sample"));
  await page.setInputFiles('[data-testid="file-input"]', [torCapture, otherCapture]);
  await waitFinished(page);
  found.push(...await checkView(page, "batch"));
  await page.locator('[data-testid="capture-summary"][data-file="tor-02-client-fetch.pcapng"] button').click();
  await page.locator('[data-testid="flow-row"]:not([data-verdict="none"])').first().locator("td").first().click(); // the row opens on a click anywhere but its copy buttons
  await page.waitForSelector('[data-testid="flow-detail"]');
  // The first Tor host's evidence cards, opened, are part of this view.
  await page.locator('[data-testid="host-evidence"] summary').first().click();
  assert.ok(await page.locator('[data-testid="host-evidence"] [data-testid="evidence-card"]').count() > 0);
  found.push(...await checkView(page, "flow-detail"));
  await page.waitForSelector('[data-testid="history-item"]');
  await page.locator('[data-testid="history"]').scrollIntoViewIfNeeded();
  found.push(...await checkView(page, "history"));
  assert.deepEqual(found, []);
  assert.deepEqual(errors, []);
  await page.close();
});

test("keyboard only: a file through the input, a Tor flow's detail, the JSON export", async () => {
  const expected = cli([torCapture]).captures[0];
  const { page, errors } = await openPage(context, server.url);
  // Tab from the top of the page to the file input, as a keyboard user does.
  await page.keyboard.press("Tab");
  for (let i = 0; i < 20 && !(await page.evaluate(() => document.activeElement?.dataset.testid === "file-input")); i++) {
    await page.keyboard.press("Tab");
  }
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), "file-input", "the file input takes focus");
  // The file goes in through the focused input (what a file picker opened with the keyboard does).
  await page.locator(":focus").setInputFiles([torCapture]);
  await waitFinished(page);
  // Tab to the first Tor flow row and open it with Enter.
  let focused = "";
  for (let i = 0; i < 200; i++) {
    await page.keyboard.press("Tab");
    focused = await page.evaluate(() => document.activeElement?.closest('[data-testid="flow-row"]')?.dataset.verdict ?? "");
    if (focused && focused !== "none") break;
  }
  assert.ok(focused && focused !== "none", "a Tor flow row takes focus");
  assert.ok(torCount(expected) > 0);
  await page.keyboard.press("Enter");
  await page.waitForSelector('[data-testid="flow-detail"]');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("aria-expanded")), "true");
  // Shift+Tab back to the export button and press it.
  let onExport = false;
  for (let i = 0; i < 200 && !onExport; i++) {
    await page.keyboard.press("Shift+Tab");
    onExport = await page.evaluate(() => document.activeElement?.dataset.testid === "export-json");
  }
  assert.ok(onExport, "the JSON export takes focus");
  const download = page.waitForEvent("download");
  await page.keyboard.press("Enter");
  const file = path.join(artifacts, "keyboard-export.json");
  await (await download).saveAs(file);
  const exported = JSON.parse(fs.readFileSync(file, "utf8"));
  assert.equal(exported.captures[0].flows.length, expected.flows.length);
  assert.deepEqual(errors, []);
  await page.close();
});

/** Seconds since the epoch of a report time, microseconds kept (Date.parse drops them). */
function seconds(t) {
  const [whole, frac = "0"] = t.replace("Z", "").split(".");
  return Date.parse(`${whole}Z`) / 1000 + Number(`0.${frac}`);
}

test("the timeline's brush filters the flow table to the flows of that time window", async () => {
  const expected = cli([torCapture]).captures[0];
  const { page, errors } = await openPage(context, server.url);
  await page.setInputFiles('[data-testid="file-input"]', [torCapture]);
  await waitFinished(page);
  await page.selectOption('[data-testid="verdict-filter"]', "all");
  const row = page.locator('[data-testid="timeline-row"]').first();
  await row.scrollIntoViewIfNeeded();
  const box = await row.boundingBox();
  const y = box.y + box.height / 2;
  await page.mouse.move(Math.round(box.x + box.width * 0.3), y);
  await page.mouse.down();
  await page.mouse.move(Math.round(box.x + box.width * 0.6), y, { steps: 4 });
  await page.mouse.up();
  const button = page.locator('[data-testid="time-window"]');
  const [from, to] = [Number(await button.getAttribute("data-from")), Number(await button.getAttribute("data-to"))];
  const [start, end] = [seconds(expected.first_seen), seconds(expected.last_seen)];
  assert.ok(start < from && from < to && to < end, `a window inside the capture: ${from}..${to}`);
  // A flow belongs to the window when it was active at any moment of it.
  const want = expected.flows.filter((f) => seconds(f.first_seen) <= to && seconds(f.last_seen) >= from).length;
  assert.ok(want > 0 && want < expected.flows.length, `the window holds some flows, not all (${want})`);
  assert.equal(await page.textContent('[data-testid="flow-count"]'), `${want} flows`);
  await page.screenshot({ path: path.join(artifacts, "timeline-window.png"), fullPage: true });
  await button.click();
  assert.equal(await page.textContent('[data-testid="flow-count"]'), `${expected.flows.length} flows`);
  assert.deepEqual(errors, []);
  await page.close();
});

test("the printed report: A4 pages, the verdict summary on page 1", async () => {
  const { page, errors } = await openPage(context, server.url);
  await page.setInputFiles('[data-testid="file-input"]', [torCapture]);
  await waitFinished(page);
  await page.locator('[data-testid="flow-row"]:not([data-verdict="none"])').first().locator("td").first().click();
  const pdf = path.join(artifacts, "report.pdf");
  await page.pdf({ path: pdf, format: "A4", printBackground: true });
  const pageOne = execFileSync("pdftotext", ["-layout", "-f", "1", "-l", "1", pdf, "-"]).toString();
  assert.match(pageOne, /Tor seen: \d+ flow/, "the verdict banner on page 1");
  assert.match(pageOne, /verdict\s+confidence\s+flows\s+bytes/, "the verdict summary table on page 1");
  assert.doesNotMatch(pageOne, /Drop pcap/, "no drop zone in print");
  execFileSync("pdftoppm", ["-png", "-r", "50", pdf, path.join(artifacts, "report-page")]);
  for (const scheme of ["light", "dark"]) {
    for (const width of [1400, 800]) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.setViewportSize({ width, height: 900 });
      await page.screenshot({ path: path.join(artifacts, `report-${scheme}-${width}.png`), fullPage: true });
    }
  }
  assert.deepEqual(errors, []);
  await page.close();
});
