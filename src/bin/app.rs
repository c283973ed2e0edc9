//! Browser entry point (wasm32). One module serves both halves of the page, so the code they
//! share (the standard library, serde, wasm-bindgen's glue) is downloaded once: on the page it
//! mounts the Yew app; in the Web Worker that the page starts from `worker.js` it runs the
//! analysis core off the main thread.

#[cfg(target_arch = "wasm32")]
fn main() {
    use wasm_bindgen::JsCast;
    if js_sys::global().is_instance_of::<web_sys::DedicatedWorkerGlobalScope>() {
        torsift::browser::worker::start();
    } else {
        torsift::browser::app::start();
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the app binary runs only in the browser; build it with `trunk build`");
}
