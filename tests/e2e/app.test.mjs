// End-to-end: the built page in headless Chromium, checked against the CLI on the same files.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { serve, browser, openPage, waitFinished, cli, summaries, torCount, isLocal, shared, artifacts, root } from "./harness.mjs";

let server, context;
before(async () => { server = await serve(); context = await browser(); });
after(async () => { await context?.close(); server?.close(); });

const lab = (f) => path.join(shared, "captures/lab", f);
const pub = (f) => path.join(shared, "captures/public", f);

test("the sample demo answers, offline from the network", async () => {
  const { page, requests, errors } = await openPage(context, server.url);
  assert.equal(await page.getAttribute('[data-testid="analysis-status"]', "data-state"), "idle");
  await page.click('[data-testid="try-sample"]');
  await waitFinished(page);
  const [s] = await summaries(page);
  const expected = cli([path.join(root, "web/assets/sample.pcap")]).captures[0];
  assert.equal(s.packets, expected.packets);
  assert.equal(s.flows, expected.flows.length);
  assert.equal(s.tor, torCount(expected));
  await page.screenshot({ path: path.join(artifacts, "sample.png"), fullPage: true });
  assert.deepEqual(requests.filter((u) => !isLocal(u)), [], "requests left the machine");
  assert.deepEqual(errors, []);
  await page.close();
});

test("several captures at once match the CLI, flow by flow", async () => {
  const files = [lab("tor-02-client-fetch.pcapng"), pub("nontor/ndpi_443-firefox.pcap"), pub("formats/zeek_tunnels_vxlan.pcap")];
  const { page, requests, errors } = await openPage(context, server.url);
  await page.setInputFiles('[data-testid="file-input"]', files);
  await waitFinished(page);
  const got = await summaries(page);
  assert.equal(got.length, files.length);
  for (const f of files) {
    const expected = cli([f]).captures[0];
    const s = got.find((g) => g.file === path.basename(f));
    assert.ok(s, `no summary for ${f}`);
    assert.deepEqual(s, { file: path.basename(f), packets: expected.packets, flows: expected.flows.length, tor: torCount(expected) });
  }
  // The first capture is shown: its Tor flows with their verdicts, as the CLI says.
  const expected = cli([files[0]]).captures[0];
  await page.selectOption('[data-testid="verdict-filter"]', "tor");
  const rows = await page.$$eval('[data-testid="flow-row"]', (rs) => rs.map((r) => `${r.dataset.client} ${r.dataset.server} ${r.dataset.verdict}`));
  const want = expected.flows.filter((f) => f.verdict !== "none").slice(0, 100).map((f) => `${f.client} ${f.server} ${f.verdict}`);
  assert.deepEqual(rows.sort(), want.sort());
  await page.screenshot({ path: path.join(artifacts, "batch.png"), fullPage: true });
  assert.deepEqual(requests.filter((u) => !isLocal(u)), []);
  assert.deepEqual(errors, []);
  await page.close();
});

test("a truncated capture keeps what was read and says where it stopped", async () => {
  const src = fs.readFileSync(lab("tor-01-bootstrap.pcap"));
  const cut = path.join(artifacts, "cut-short.pcap");
  fs.writeFileSync(cut, src.subarray(0, Math.floor(src.length * 0.6)));
  const expected = cli([cut]).captures[0];
  assert.ok(expected.error, "the CLI reports the cut");
  const { page } = await openPage(context, server.url);
  await page.setInputFiles('[data-testid="file-input"]', [cut]);
  await waitFinished(page);
  const [s] = await summaries(page);
  assert.equal(s.packets, expected.packets);
  assert.equal(s.flows, expected.flows.length);
  const alert = await page.textContent('.job [role="alert"]');
  assert.match(alert, new RegExp(`at byte ${expected.error.offset}`));
  await page.screenshot({ path: path.join(artifacts, "truncated.png"), fullPage: true });
  await page.close();
});

test("the exported JSON is the CLI's report for the same files", async () => {
  const files = [pub("tor/ndpi_tor_2013-11-07.pcap"), pub("tor/linkia_wikipedia-via-tor_2019-11-02.pcapng")];
  const { page } = await openPage(context, server.url);
  await page.setInputFiles('[data-testid="file-input"]', files);
  await waitFinished(page);
  const [download] = await Promise.all([page.waitForEvent("download"), page.click('[data-testid="export-json"]')]);
  const exported = JSON.parse(fs.readFileSync(await download.path(), "utf8"));
  const captures = files.map((f) => cli([f]).captures[0]);
  const expected = { ...cli([files[0]]), captures };
  assert.deepEqual(exported, expected);
  await page.close();
});

test("a not-a-capture file fails next to its name, and the page recovers", async () => {
  const { page } = await openPage(context, server.url);
  await page.setInputFiles('[data-testid="file-input"]', [pub("../public/MANIFEST.md")]);
  await waitFinished(page);
  const text = await page.textContent('[data-testid="job"]');
  assert.match(text, /not a pcap or pcapng capture/);
  await page.setInputFiles('[data-testid="file-input"]', [pub("formats/zeek_tunnels_geneve.pcap")]);
  await page.waitForSelector('[data-testid="capture-summary"][data-file="zeek_tunnels_geneve.pcap"]');
  await page.close();
});
