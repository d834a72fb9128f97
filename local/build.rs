//! Rebuilds chat-local when the web app or the SDK's compiled ESM change:
//! both are embedded (`include_dir!` in src/web.rs), and a file added to
//! either folder must be picked up too, which `include_dir!` alone does not
//! tell cargo.
fn main() {
    println!("cargo:rerun-if-changed=web");
    println!("cargo:rerun-if-changed=../sdk/ts/dist");
}
