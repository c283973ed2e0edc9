// Page budgets, measured (not a test: the machine is shared and noisy):
// - transfer of the app (wasm + js + css, gzip -9), without the sample capture or relay index;
// - in-browser throughput end to end on a generated capture (default ~1 GB), and the renderer's
//   memory at the end, for two sizes to show it does not grow with the file.
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
  const kb = (b) => (b / 1024).toFixed(1);
  console.log(`relay history: ${years.length} year files, ${kb(sizes.reduce((a, b) => a + b, 0))} KiB in all, largest ${kb(Math.max(0, ...sizes))} KiB (fetched per year)`);
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
  await page.close();
}
await context.close();
server.close();
