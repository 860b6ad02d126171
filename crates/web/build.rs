//! Rebuilds the crate when a translation changes: `rust_i18n::i18n!` reads `locales/` at
//! compile time without telling cargo, so an edited string kept the old text in the
//! binary until some Rust file changed too.
fn main() {
    println!("cargo:rerun-if-changed=locales");
}
