// Page budgets, measured (not a test: the machine is shared and noisy):
// - transfer of the app (wasm + js + css, gzip -9), without the sample capture or relay index;
// - in-browser throughput end to end on a generated capture (default ~1 GB), and the renderer's
//   memory at the end, for two sizes to show it does not grow with the file;
// - beside each, the read-only baseline: a worker in the same browser reads the same file in the
//   same 4 MiB slices (Blob.arrayBuffer, one slice ahead, as the analysis worker does) and drops
//   them. The page's target is within 1.5x of it, measured in the same run.
//   node tests/e2e/budget.mjs [PACKETS]
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { execFileSync } from "node:child_process";
import { serve, browser, openPage, waitFinished, root, artifacts } from "./harness.mjs";

const dist = path.join(root, "dist");
let total = 0;
for (const f of fs.readdirSync(dist)) {
  if (!/\.(wasm|js|css)$/.test(f) || f === "sw.js") continue;
  const gz = zlib.gzipSync(fs.readFileSync(path.join(dist, f)), { level: 9 }).length;
  total += gz;
  console.log(`${f}: ${fs.statSync(path.join(dist, f)).size} B raw, ${gz} B gzip`);
}
console.log(`app transfer (wasm + js + css, gzip): ${(total / 1024).toFixed(1)} KiB (budget 400 KiB)`);
console.log(`relays.idx: ${fs.statSync(path.join(dist, "relays.idx")).size} B raw, ${zlib.gzipSync(fs.readFileSync(path.join(dist, "relays.idx"))).length} B gzip (fetched once by the worker)`);
{
  // The relay history: one gzip file per year, fetched only when a capture or lookup needs it.
  const years = JSON.parse(fs.readFileSync(path.join(dist, "history/history.json"), "utf8")).years;
  const sizes = years.map((y) => fs.statSync(path.join(dist, "history", y.file)).size);
  const all = sizes.reduce((a, b) => a + b, 0);
  const largest = Math.max(0, ...sizes);
  console.log(`relay history: ${years.length} year files, ${(all / 1e6).toFixed(2)} MB in all (budget 3 MB), largest ${(largest / 1e3).toFixed(1)} KB (budget 400 KB; fetched per year)`);
}

const packets = Number(process.argv[2] || 1_800_000);
const server = await serve();
const context = await browser();
for (const n of [Math.floor(packets / 4), packets]) {
  const file = path.join(artifacts, `budget-${n}.pcap`);
  if (!fs.existsSync(file)) {
    execFileSync(path.join(root, "target/release/torsift"), ["generate", "--packets", String(n), "--flows", "50000", "--payload", "500", file]);
  }
  const size = fs.statSync(file).size;
  const baseline = await readOnlySeconds(context, file);
  console.log(`${(size / 1e6).toFixed(0)} MB read-only baseline: ${baseline.toFixed(2)} s = ${(size / 1e6 / baseline).toFixed(0)} MB/s`);
  const { page } = await openPage(context, server.url);
  const cdp = await context.newCDPSession(page);
  await cdp.send("Performance.enable");
  const start = Date.now();
  await page.setInputFiles('[data-testid="file-input"]', [file]);
  await waitFinished(page, 600000);
  const secs = (Date.now() - start) / 1000;
  const metrics = (await cdp.send("Performance.getMetrics")).metrics;
  const heap = metrics.find((m) => m.name === "JSHeapUsedSize")?.value ?? 0;
  const pids = execFileSync("pgrep", ["-f", "chromium.*--type=renderer"]).toString().trim().split("\n");
  const rss = pids.map((p) => { try { return Number(fs.readFileSync(`/proc/${p}/status`, "utf8").match(/VmHWM:\s+(\d+)/)[1]); } catch { return 0; } });
  console.log(`${(size / 1e6).toFixed(0)} MB, ${n} packets: ${secs.toFixed(2)} s end to end = ${(size / 1e6 / secs).toFixed(0)} MB/s; page JS heap ${(heap / 1048576).toFixed(0)} MiB; renderer peak RSS (max over renderers) ${(Math.max(...rss) / 1024).toFixed(0)} MiB`);
  console.log(`  end to end / read-only baseline: ${(secs / baseline).toFixed(2)}x (target <= 1.5x)`);
  await page.close();
}
await context.close();
server.close();

/// Seconds a worker takes to read `file` in 4 MiB slices and drop them, on a blank page (no app,
/// no CSP) of the same browser.
async function readOnlySeconds(context, file) {
  const page = await context.newPage();
  await page.setContent('<input type="file" id="f">');
  await page.setInputFiles("#f", [file]);
  const secs = await page.evaluate(async () => {
    const source = `onmessage = async (e) => {
      const file = e.data, slice = 4 * 1024 * 1024, t0 = performance.now();
      let pending = file.slice(0, slice).arrayBuffer(), bytes = 0;
      for (let pos = 0; pos < file.size; pos += slice) {
        const buffer = await pending;
        if (pos + slice < file.size) pending = file.slice(pos + slice, pos + 2 * slice).arrayBuffer();
        bytes += new Uint8Array(buffer).length;
      }
      postMessage({ secs: (performance.now() - t0) / 1000, bytes });
    };`;
    const worker = new Worker(URL.createObjectURL(new Blob([source], { type: "text/javascript" })));
    const done = new Promise((resolve) => (worker.onmessage = (e) => resolve(e.data)));
    worker.postMessage(document.getElementById("f").files[0]);
    const { secs } = await done;
    worker.terminate();
    return secs;
  });
  await page.close();
  return secs;
}
