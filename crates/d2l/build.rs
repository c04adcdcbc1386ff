//! With the `tch` feature: an rpath to libtorch in this crate's examples, tests and benches, so
//! they start without `LD_LIBRARY_PATH` even when run directly (`target/release/examples/tour`).

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    // Set by d2l-device's build script (`links = "d2l_device"`) when it links the tch backend.
    if let Some(lib) = std::env::var_os("DEP_D2L_DEVICE_LIBTORCH_LIB") {
        println!("cargo::rustc-link-arg=-Wl,-rpath,{}", lib.to_string_lossy());
    }
}
