// The analysis worker is the page's own module (app-*.js and app-*_bg.wasm) started in a
// Web Worker: its entry point sees a worker scope and runs the analysis core instead of the
// page, and the browser downloads the shared code once. The build's finishing step
// (finish-build.py) fills in the hashed file names.
import init from "./__TORSIFT_APP_JS__";

init({ module_or_path: "./__TORSIFT_APP_WASM__" });
