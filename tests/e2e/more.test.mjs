// End-to-end: relay lists, history, cancel, sub-path, hostile strings.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { serve, browser, openPage, waitFinished, cli, summaries, torCount, isLocal, shared, artifacts, root } from "./harness.mjs";

let server, context;
before(async () => { server = await serve(); context = await browser(); });
after(async () => { await context?.close(); server?.close(); });

const lab = (f) => path.join(shared, "captures/lab", f);
const labLists = ["authority-auth1-cached-consensus", "client-cached-microdesc-consensus"]
  .map((f) => path.join(shared, "captures/lab/directory-docs", f));

test("loaded relay lists are used and listed, as with --relays", async () => {
  const file = lab("tor-04-mixed.pcap");
  const expected = cli([file], labLists.flatMap((l) => ["--relays", l]));
  const { page, errors } = await openPage(context, server.url);
  await page.setInputFiles('[data-testid="relay-list-input"]', labLists);
  await page.setInputFiles('[data-testid="file-input"]', [file]);
  await waitFinished(page);
  const [s] = await summaries(page);
  assert.equal(s.tor, torCount(expected.captures[0]));
  await page.click('[data-testid="relay-lists"] summary');
  const rows = await page.$$eval('[data-testid="relay-list"]', (rs) => rs.map((r) => r.textContent));
  assert.equal(rows.length, expected.relay_lists.length);
  for (const l of labLists) assert.ok(rows.some((r) => r.includes(path.basename(l)) && r.includes("loaded")), `${l} listed`);
  // Relay evidence names the relay in the flow table, as in the CLI.
  const orport = expected.captures[0].flows.find((f) => f.evidence.some((e) => e.kind === "relay-orport"));
  await page.selectOption('[data-testid="verdict-filter"]', "tor");
  const text = await page.textContent('[data-testid="flow-row"][data-client="' + orport.client + '"]');
  assert.match(text, /ORPort of relay/);
  await page.screenshot({ path: path.join(artifacts, "relay-lists.png"), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test("history survives a reload and reopens the report", async () => {
  const file = path.join(shared, "captures/public/tor/ninjawill543_tor-syn-only_2022-10-26.pcapng");
  const { page } = await openPage(context, server.url);
  await page.setInputFiles('[data-testid="file-input"]', [file]);
  await waitFinished(page);
  await page.waitForSelector(`[data-testid="history-item"][data-file="${path.basename(file)}"]`);
  await page.reload();
  await page.waitForSelector(`[data-testid="history-item"][data-file="${path.basename(file)}"]`);
  await page.click(`[data-testid="history-item"][data-file="${path.basename(file)}"] [data-testid="history-reopen"]`);
  await page.waitForSelector(`[data-testid="capture-summary"][data-file="${path.basename(file)}"]`);
  const [s] = await summaries(page);
  const expected = cli([file]).captures[0];
  assert.deepEqual(s, { file: path.basename(file), packets: expected.packets, flows: expected.flows.length, tor: torCount(expected) });
  await page.screenshot({ path: path.join(artifacts, "history.png"), fullPage: true });
  await page.click('[data-testid="history-clear"]');
  await page.waitForSelector('[data-testid="history-item"]', { state: "detached" });
  await page.close();
});

test("cancel stops a long analysis and the next file still works", async () => {
  const big = path.join(artifacts, "big.pcap");
  if (!fs.existsSync(big)) {
    execFileSync(path.join(root, "target/release/torsift"), ["generate", "--packets", "600000", "--flows", "5000", "--payload", "1000", big]);
  }
  const { page } = await openPage(context, server.url);
  await page.setInputFiles('[data-testid="file-input"]', [big]);
  await page.waitForSelector('[data-testid="job"][data-state="running"]');
  await page.click('[data-testid="cancel"]');
  await page.waitForSelector('[data-testid="job"][data-state="cancelled"]');
  const small = lab("tor-01-bootstrap.pcap");
  await page.setInputFiles('[data-testid="file-input"]', [small]);
  await page.waitForSelector(`[data-testid="capture-summary"][data-file="tor-01-bootstrap.pcap"]`);
  const got = (await summaries(page)).find((s) => s.file === "tor-01-bootstrap.pcap");
  assert.equal(got.packets, cli([small]).captures[0].packets);
  await page.close();
});

test("works from a sub-path, as on GitHub Pages", async () => {
  const sub = await serve(path.join(root, "dist"), "/torsift/");
  const { page, requests, errors } = await openPage(context, sub.url);
  await page.click('[data-testid="try-sample"]');
  await waitFinished(page);
  const [s] = await summaries(page);
  assert.equal(s.packets, cli([path.join(root, "web/assets/sample.pcap")]).captures[0].packets);
  assert.ok(requests.every((u) => u.startsWith(sub.url) || isLocal(u) && u.includes("/torsift/") || u.startsWith("blob:") || u.startsWith("data:")), requests.join("\n"));
  assert.deepEqual(errors, []);
  await page.close();
  sub.close();
});

/** A pcap with one TCP segment carrying a TLS ClientHello whose SNI is `sni`. */
function helloCapture(sni) {
  const name = Buffer.from(sni);
  const ext = Buffer.concat([Buffer.from([0, 0]), u16(name.length + 5), u16(name.length + 3), Buffer.from([0]), u16(name.length), name]);
  const body = Buffer.concat([Buffer.from([3, 3]), Buffer.alloc(32), Buffer.from([0]), Buffer.from([0, 2, 0x13, 0x01, 1, 0]), u16(ext.length), ext]);
  const hs = Buffer.concat([Buffer.from([1, 0]), u16(body.length), body]);
  const record = Buffer.concat([Buffer.from([22, 3, 1]), u16(hs.length), hs]);
  const tcp = Buffer.concat([u16(40000), u16(443), u32(1), u32(0), Buffer.from([0x50, 0x18]), u16(65535), Buffer.alloc(4)]);
  const ipPayload = Buffer.concat([tcp, record]);
  const ip = Buffer.concat([Buffer.from([0x45, 0]), u16(20 + ipPayload.length), Buffer.from([0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2])]);
  const frame = Buffer.concat([Buffer.alloc(12, 2), Buffer.from([8, 0]), ip, ipPayload]);
  const header = Buffer.from("d4c3b2a1020004000000000000000000ffff000001000000", "hex");
  const rec = Buffer.concat([u32le(1), u32le(0), u32le(frame.length), u32le(frame.length)]);
  return Buffer.concat([header, rec, frame]);
}
function u16(n) { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; }
function u32(n) { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; }
function u32le(n) { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; }

test("capture strings and file names are shown as text, never run", async () => {
  const sni = `<img src=x onerror="window.__pwned=1">"><script>window.__pwned=2</script>`;
  const file = path.join(artifacts, `<b>odd" name'.pcap`);
  fs.writeFileSync(file, helloCapture(sni));
  const { page, errors } = await openPage(context, server.url);
  let dialogs = 0;
  page.on("dialog", (d) => { dialogs++; d.dismiss(); });
  await page.setInputFiles('[data-testid="file-input"]', [file]);
  await waitFinished(page);
  await page.click('[data-testid="flow-row"]');
  const detail = await page.textContent('[data-testid="flow-detail"]');
  assert.ok(detail.includes(sni), "the SNI is shown literally");
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.equal(await page.$$eval("img", (imgs) => imgs.length), 0);
  assert.equal(await page.getAttribute('[data-testid="capture-summary"]', "data-file"), path.basename(file));
  assert.equal(dialogs, 0);
  assert.deepEqual(errors, []);
  await page.screenshot({ path: path.join(artifacts, "hostile-strings.png"), fullPage: true });
  await page.close();
});

test("works offline once loaded (service worker)", async () => {
  const { page, errors } = await openPage(context, server.url);
  await page.evaluate(async () => { await navigator.serviceWorker.ready; });
  await page.waitForFunction(async () => (await caches.keys()).length > 0 && (await (await caches.open((await caches.keys())[0])).keys()).length > 3);
  await context.setOffline(true);
  try {
    await page.reload();
    await page.waitForSelector('[data-testid="analysis-status"][data-state="idle"]');
    await page.click('[data-testid="try-sample"]');
    await waitFinished(page);
    const [s] = await summaries(page);
    assert.equal(s.packets, cli([path.join(root, "web/assets/sample.pcap")]).captures[0].packets);
  } finally {
    await context.setOffline(false);
  }
  assert.deepEqual(errors, []);
  await page.close();
});

test("a Snowflake capture: transport per host, UDP flows' STUN and DTLS facts, as the CLI says", async () => {
  const file = path.join(shared, "captures/lab-pt/pt-02-snowflake-client.pcap");
  const expected = cli([file]).captures[0];
  const { page, errors } = await openPage(context, server.url);
  await page.setInputFiles('[data-testid="file-input"]', [file]);
  await waitFinished(page);
  const [s] = await summaries(page);
  assert.equal(s.tor, torCount(expected));
  // Every host the CLI names a transport for shows it.
  const transports = await page.$$eval('[data-testid="host-transports"]', (ps) => ps.map((p) => p.textContent));
  const want = expected.hosts.filter((h) => h.transports.length > 0);
  assert.equal(transports.length, want.length);
  for (const h of want) for (const t of h.transports) assert.ok(transports.some((p) => p.includes(t)), `transport ${t} shown`);
  // The DTLS flow's row and detail carry its ClientHello's JA4 (from the CLI's report).
  const dtls = expected.flows.find((f) => f.datagrams?.dtls_client_hello);
  const row = page.locator(`[data-testid="flow-row"][data-client="${dtls.client}"][data-server="${dtls.server}"]`);
  assert.equal(await row.getAttribute("data-verdict"), dtls.verdict);
  await row.locator("td").first().click(); // anywhere but its copy buttons
  const facts = await page.textContent('[data-testid="flow-datagrams"]');
  assert.ok(facts.includes(dtls.datagrams.dtls_client_hello.ja4), facts);
  await page.screenshot({ path: path.join(artifacts, "snowflake.png"), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test("a large flow table scrolls through every flow and moves by arrow keys", async () => {
  const file = path.join(artifacts, "many-flows.pcap");
  execFileSync(path.join(root, "target/release/torsift"), ["generate", "--packets", "24000", "--flows", "3000", "--payload", "64", "--seed", "7", file]);
  const flows = cli([file]).captures[0].flows;
  // The table's default order: by start time, ties in report order (a stable sort).
  const want = [...flows].sort((a, b) => (a.first_seen < b.first_seen ? -1 : a.first_seen > b.first_seen ? 1 : 0));
  const { page, errors } = await openPage(context, server.url);
  await page.setInputFiles('[data-testid="file-input"]', [file]);
  await waitFinished(page);
  await page.selectOption('[data-testid="verdict-filter"]', "all");
  assert.equal(await page.textContent('[data-testid="flow-count"]'), `${want.length.toLocaleString("en-US")} flows`);
  assert.equal(await page.getAttribute(".table-scroll table", "aria-rowcount"), String(want.length + 1));
  const drawn = async () => page.$$eval('[data-testid="flow-row"]', (rs) => rs.map((r) => [Number(r.getAttribute("aria-rowindex")), r.dataset.client, r.dataset.server]));
  const check = (rows) => {
    for (const [index, client, server] of rows) assert.deepEqual([client, server], [want[index - 2].client, want[index - 2].server], `row ${index}`);
  };
  let rows = await drawn();
  assert.equal(rows.length, 100, "only a window of rows is in the page");
  check(rows);
  // Scrolled to the middle and to the end, the rows drawn are the flows at those places.
  for (const to of [0.5, 1]) {
    await page.$eval(".table-scroll", (el, to) => { el.scrollTop = (el.scrollHeight - el.clientHeight) * to; }, to);
    // Until the window follows the scroll, only a spacer is in view.
    await page.waitForFunction(() => {
      const el = document.querySelector(".table-scroll"), view = el.getBoundingClientRect();
      return [...el.querySelectorAll('[data-testid="flow-row"]')]
        .filter((r) => { const b = r.getBoundingClientRect(); return b.bottom > view.top + 40 && b.top < view.bottom; }).length >= 5;
    });
    rows = await drawn();
    assert.ok(rows.length <= 100);
    check(rows);
  }
  assert.equal(rows.at(-1)[0], want.length + 1, "the last flow is reachable");
  // Keyboard: from the first row, 60 × ArrowDown lands on the 61st flow (scrolled into view,
  // the drawn window moving along), Enter opens it, ArrowUp goes back.
  await page.$eval(".table-scroll", (el) => { el.scrollTop = 0; });
  await page.waitForSelector('[data-testid="flow-row"][aria-rowindex="2"]');
  await page.focus('[data-testid="flow-row"][aria-rowindex="2"] button.disclose');
  // Each press moves the focus one row (a person types slower than a redraw: wait for it).
  const press = async (key, row) => {
    await page.keyboard.press(key);
    const at = (row) => document.activeElement?.closest('[data-testid="flow-row"]')?.getAttribute("aria-rowindex") === row;
    await page.waitForFunction(at, String(row), { timeout: 5000 }).catch(async () => {
      const state = await page.evaluate(() => {
        const drawn = [...document.querySelectorAll('[data-testid="flow-row"]')].map((r) => r.getAttribute("aria-rowindex"));
        return `focus on ${document.activeElement?.tagName}.${document.activeElement?.className} in row ${document.activeElement?.closest("[data-testid=flow-row]")?.getAttribute("aria-rowindex")}, scrollTop ${document.querySelector(".table-scroll").scrollTop}, rows ${drawn[0]}–${drawn.at(-1)} drawn`;
      });
      assert.fail(`${key} should focus row ${row}: ${state}`);
    });
  };
  for (let row = 3; row <= 62; row++) await press("ArrowDown", row);
  assert.ok(await page.$eval(".table-scroll", (el) => el.scrollTop > 0), "the focused row was scrolled into view");
  const client = await page.evaluate(() => document.activeElement.closest('[data-testid="flow-row"]').dataset.client);
  assert.equal(client, want[60].client);
  await page.keyboard.press("Enter");
  await page.waitForSelector('[data-testid="flow-detail"]');
  for (let row = 61; row >= 57; row--) await press("ArrowUp", row);
  assert.deepEqual(errors, []);
  await page.close();
});
