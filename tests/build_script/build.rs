// Regenerates generated/ whenever zlib.yaml, zlib.h or the library changes.
fn main() {
    if let Err(e) = dllgen::Builder::new("zlib.yaml").out_dir("generated").generate() {
        panic!("{e}");
    }
}
