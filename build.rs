//! Link settings for the `cairn` binary.

fn main() {
    // Relative relocations packed (RELR): a position-independent executable of this
    // size carries 1.4 MB of them otherwise, all read at every start. Needs glibc 2.36.
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.contains("linux-gnu") {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
