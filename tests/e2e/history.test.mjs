// End-to-end: the "was it a relay?" box answers from the relay history exactly as
// `torsift lookup` does (which tests/history.rs checks against the history files), fetching only
// the year it needs, and "make all years available offline" fetches every year.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { execFileSync } from "node:child_process";
import { serve, browser, openPage, isLocal, shared, artifacts, root } from "./harness.mjs";

let server, context;
before(async () => { server = await serve(); context = await browser(); });
after(async () => { await context?.close(); server?.close(); });

const history = path.join(shared, "relays/history");
const manifest = JSON.parse(fs.readFileSync(path.join(root, "dist/history/history.json"), "utf8"));

/** `torsift lookup --format json` for one endpoint. */
function cliLookup(endpoint, date) {
  const args = ["lookup", "--format", "json", ...(date ? ["--date", date] : []), endpoint];
  return JSON.parse(execFileSync(path.join(root, "target/release/torsift"), args).toString()).lookups[0];
}

/** A row of a history file, chosen by a predicate over its columns. */
function row(file, pick) {
  const lines = zlib.gunzipSync(fs.readFileSync(path.join(history, file))).toString().split("\n");
  return lines.find((l) => l && !l.startsWith("#") && pick(l.split("\t"))).split("\t");
}

async function ask(page, endpoint, date) {
  await page.fill('[data-testid="relay-lookup-address"]', endpoint);
  await page.fill('[data-testid="relay-lookup-date"]', date || "");
  await page.click('[data-testid="relay-lookup-submit"]');
  await page.waitForFunction(
    ([e, d]) => {
      const a = document.querySelector('[data-testid="relay-lookup-answer"]');
      return a && a.getAttribute("data-endpoint") === e && a.getAttribute("data-date") === d;
    },
    [endpoint, date || ""],
    { timeout: 60000 },
  );
  return page.$eval('[data-testid="relay-lookup-answer"]', (a) => ({
    listed: a.getAttribute("data-listed"),
    text: a.textContent,
    runs: a.querySelectorAll('[data-testid="relay-lookup-run"]').length,
  }));
}

const state = (listed) => (listed === true ? "listed" : listed === false ? "unlisted" : "no-data");

test("the lookup box answers as `torsift lookup`, fetching only the year it needs", async () => {
  const { page, requests, errors } = await openPage(context, server.url);
  await page.click('[data-testid="relay-lookup"] summary');
  // An IPv4 address on a day inside one of its runs, the day after a run ends, an IPv6
  // address+ORPort, and a day without data.
  const [ip4, first4, last4] = row("relay-history-ip.tsv.gz", (c) => !c[0].includes(":") && c[1] < c[2] && c[1].startsWith("2022"));
  const [ip6, port6, first6] = row("relay-history-orport.tsv.gz", (c) => c[0].includes(":") && c[2].startsWith("2025"));
  const dayAfter = new Date(Date.parse(last4) + 86400000).toISOString().slice(0, 10);
  const cases = [[ip4, first4], [ip4, dayAfter], [`[${ip6}]:${port6}`, first6], [ip4, "2014-06-01"]];
  const seen = new Set();
  for (const [endpoint, date] of cases) {
    const want = cliLookup(endpoint, date);
    const got = await ask(page, endpoint, date);
    assert.equal(got.listed, state(want.listed), `${endpoint} on ${date}: ${got.text}`);
    assert.ok(got.text.includes(want.answer), `${endpoint} on ${date}: page says ${got.text}, CLI says ${want.answer}`);
    assert.equal(got.runs, Math.min(want.intervals.length, 50));
    seen.add(state(want.listed));
  }
  assert.ok(seen.has("listed") && seen.has("no-data"), [...seen].join(","));
  // Only the years asked about were fetched (2022, the day after's year, 2025; 2014 has no file).
  const years = requests.map((u) => u.match(/history-(\d{4})\.idx\.gz/)?.[1]).filter(Boolean);
  const asked = new Set([first4, dayAfter, first6].map((d) => d.slice(0, 4)));
  assert.deepEqual([...new Set(years)].sort(), [...asked].sort());
  await page.screenshot({ path: path.join(artifacts, "relay-lookup.png"), fullPage: true });
  assert.deepEqual(requests.filter((u) => !isLocal(u)), []);
  assert.deepEqual(errors, []);
  await page.close();
});

test("every year can be made available offline", async () => {
  const { page, errors } = await openPage(context, server.url);
  await page.click('[data-testid="relay-lookup"] summary');
  await page.click('[data-testid="history-offline"]');
  await page.waitForSelector('[data-testid="history-offline-status"]', { timeout: 120000 });
  const status = await page.textContent('[data-testid="history-offline-status"]');
  assert.match(status, new RegExp(`^ ${manifest.years.length} years cached for offline use`));
  assert.ok(manifest.years.length >= 10, `${manifest.years.length} years in the site's history`);
  assert.deepEqual(errors, []);
  await page.close();
});
