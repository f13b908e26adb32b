//! Prints the directory holding the built fixture binaries (for scripts: the fuzz seed
//! corpus and the demo).

fn main() {
    println!("{}", dllgen_tests::fixtures().display());
}
