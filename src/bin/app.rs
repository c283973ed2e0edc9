//! Browser page entry point (wasm32): mounts the Yew app.

#[cfg(target_arch = "wasm32")]
fn main() {
    torsift::browser::app::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the app binary runs only in the browser; build it with `trunk build`");
}
