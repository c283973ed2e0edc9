"""Post-build step: compacts wasm-bindgen's JS glue, writes the Content-Security-Policy with the
hashes of Trunk's inline scripts (a static page has no server to add nonces), and the service
worker's file list."""
import base64, hashlib, os, re, pathlib

stage = pathlib.Path(os.environ.get("TRUNK_STAGING_DIR", "dist"))
index = stage / "index.html"
html = index.read_text()


def compact_glue(js):
    """wasm-bindgen's JS glue without its indentation, comment lines and doc-comment blocks:
    1 KiB less of the page's gzipped download. Only when no template literal spans lines (then
    a line's leading blanks and a line that starts a comment are never inside a string);
    otherwise the glue is left as it is."""
    lines = js.split("\n")
    if any(line.count("`") % 2 for line in lines):
        return js
    out, in_block = [], False
    for line in lines:
        text = line.strip()
        if in_block:
            in_block = not text.endswith("*/")
        elif text.startswith("/*"):
            in_block = not text.endswith("*/")
        elif text and not text.startswith("//"):
            out.append(text)
    return "\n".join(out) + "\n"


# The glue is compacted, and its subresource-integrity digest (Trunk's modulepreload link) made anew.
for glue in stage.glob("app-*.js"):
    glue.write_bytes(compact_glue(glue.read_text()).encode())
    digest = base64.b64encode(hashlib.sha384(glue.read_bytes()).digest()).decode()
    html, replaced = re.subn(r'(href="\./%s"[^>]*integrity=")sha384-[^"]*"' % re.escape(glue.name),
                             lambda m: m.group(1) + "sha384-" + digest + '"', html)
    # A link that names the glue with a digest we did not replace would block the page.
    if not replaced and re.search(r'<link[^>]*%s[^>]*integrity=' % re.escape(glue.name), html):
        raise SystemExit("finish-build: the glue's integrity attribute was not updated")
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
