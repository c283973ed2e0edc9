// Test harness: serves dist/ on loopback, drives Debian's Chromium through playwright-core, and
// runs the CLI for the expected values. Every request the page makes is recorded so tests can
// prove nothing leaves the machine.
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import http from "node:http";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const shared = path.resolve(root, "../shared");
export const artifacts = path.join(root, "tests/e2e/artifacts");
fs.mkdirSync(artifacts, { recursive: true });

const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".css": "text/css",
  ".pcap": "application/octet-stream" };

/** A static server for dist/ (optionally under a sub-path, as GitHub Pages serves it). */
export async function serve(dir = path.join(root, "dist"), prefix = "/") {
  const server = http.createServer((req, res) => {
    let url = decodeURIComponent(new URL(req.url, "http://x").pathname);
    if (!url.startsWith(prefix)) { res.writeHead(404); return res.end(); }
    url = url.slice(prefix.length);
    let file = path.join(dir, url || "index.html");
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, "index.html");
    if (!file.startsWith(dir) || !fs.existsSync(file)) { res.writeHead(404); return res.end(); }
    res.writeHead(200, { "content-type": types[path.extname(file)] || "application/octet-stream" });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  return { url: `http://127.0.0.1:${server.address().port}${prefix}`, close: () => server.close() };
}

export async function browser() {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "torsift-chromium-"));
  const context = await chromium.launchPersistentContext(userDir, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  return context;
}

/** Opens the page, recording every request and console error. */
export async function openPage(context, url) {
  const page = await context.newPage();
  const requests = [];
  const errors = [];
  page.on("request", (r) => requests.push(r.url()));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForSelector('[data-testid="analysis-status"]');
  return { page, requests, errors };
}

export async function waitFinished(page, timeout = 120000) {
  await page.waitForSelector('[data-testid="analysis-status"]:is([data-state="done"],[data-state="failed"])', { timeout });
}

/** The CLI's report for files, run from their directory so `file` is the bare name, as in the page. */
export function cli(files, extra = []) {
  const dir = path.dirname(files[0]);
  let out;
  try {
    out = execFileSync(path.join(root, "target/release/torsift"), ["analyze", "--format", "json", ...extra,
      ...files.map((f) => path.basename(f))], { cwd: dir, maxBuffer: 1 << 30 });
  } catch (e) {
    out = e.stdout; // exit 1: a damaged file; the report is still printed
  }
  return JSON.parse(out.toString());
}

export async function summaries(page) {
  return page.$$eval('[data-testid="capture-summary"]', (rows) => rows.map((r) => ({
    file: r.dataset.file, packets: Number(r.dataset.packets), flows: Number(r.dataset.flows), tor: Number(r.dataset.torFlows) })));
}

export function torCount(capture) {
  return capture.flows.filter((f) => f.verdict !== "none").length;
}

export function isLocal(url) {
  return url.startsWith("http://127.0.0.1") || url.startsWith("data:") || url.startsWith("blob:");
}
