"""Post-build step: writes the Content-Security-Policy with the hashes of Trunk's inline
scripts (a static page has no server to add nonces), and the service worker's file list."""
import base64, hashlib, os, re, pathlib

stage = pathlib.Path(os.environ.get("TRUNK_STAGING_DIR", "dist"))
index = stage / "index.html"
html = index.read_text()
hashes = []
for m in re.finditer(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, re.S):
    digest = hashlib.sha256(m.group(1).encode()).digest()
    hashes.append("'sha256-%s'" % base64.b64encode(digest).decode())
csp = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval' " + " ".join(hashes),
    "worker-src 'self'",
    "connect-src 'self'",
    "img-src 'self' data: blob:",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'none'",
])
html = html.replace("TORSIFT_CSP", csp)
index.write_text(html)
# The worker starts the page's own module (see web/worker.js): name its hashed files.
(app_js,) = [p.name for p in stage.glob("app-*.js")]
(app_wasm,) = [p.name for p in stage.glob("app-*_bg.wasm")]
worker = stage / "worker.js"
worker.write_text(
    worker.read_text().replace("__TORSIFT_APP_JS__", app_js).replace("__TORSIFT_APP_WASM__", app_wasm)
)
# The service worker caches the whole page for offline use, except the relay history's years:
# those are cached when first fetched (or all at once by "make all years available offline").
files = sorted(
    p.relative_to(stage).as_posix()
    for p in stage.rglob("*")
    if p.is_file() and p.name != "sw.js" and not p.relative_to(stage).as_posix().startswith("history/history-")
)
sw = stage / "sw.js"
if sw.exists():
    sw.write_text(sw.read_text().replace("__TORSIFT_FILES__", repr(["./"] + ["./" + f for f in files])))
