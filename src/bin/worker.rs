//! Web Worker entry point (wasm32): runs the analysis core off the page's main thread.

#[cfg(target_arch = "wasm32")]
fn main() {
    torsift::browser::worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the worker binary runs only in the browser; build the app with `trunk build`");
}
