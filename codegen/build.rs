//! Compiles the runtime's source into dllgen (`runtime-src` links to `../runtime/src`; a
//! packaged dllgen carries the files themselves): `dllgen generate` writes it beside the
//! crates it generates, so they build without this checkout.

use std::path::{Path, PathBuf};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("runtime-src");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let mut table = String::from("&[\n");
    for file in &files {
        let relative = file.strip_prefix(&root).expect("below runtime-src");
        let name =
            relative.components().map(|c| c.as_os_str().to_str().expect("UTF-8 name")).collect::<Vec<_>>();
        table.push_str(&format!(
            "    ({:?}, include_str!({:?})),\n",
            name.join("/"),
            file.display().to_string()
        ));
    }
    table.push(']');
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out.join("runtime_files.rs"), table).expect("write runtime_files.rs");
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            walk(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}
