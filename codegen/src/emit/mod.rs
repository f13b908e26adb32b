//! `dllgen generate`: the model rendered through the templates into a host crate and a
//! client crate. Rust text is parsed with syn (a template bug is reported with the
//! template's name and the numbered text) and formatted with prettyplease. Output is
//! deterministic; writing is atomic (all files are written beside the target, then swapped
//! in), and `--check` compares instead of writing.

pub mod view;

use crate::model::Model;
use handlebars::Handlebars;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Templates, compiled into the binary (the folder is the source of truth).
const TEMPLATES: &[(&str, &str)] = &[
    ("host_cargo", include_str!("../../../templates/host_cargo.toml.hbs")),
    ("host_main", include_str!("../../../templates/host_main.rs.hbs")),
    ("host_decode", include_str!("../../../templates/host_decode.hbs")),
    ("host_prepare", include_str!("../../../templates/host_prepare.hbs")),
    ("host_arg", include_str!("../../../templates/host_arg.hbs")),
    ("host_ret", include_str!("../../../templates/host_ret.hbs")),
    ("host_out", include_str!("../../../templates/host_out.hbs")),
    ("client_cargo", include_str!("../../../templates/client_cargo.toml.hbs")),
    ("client_lib", include_str!("../../../templates/client_lib.rs.hbs")),
    ("client_encode", include_str!("../../../templates/client_encode.hbs")),
    ("client_decode", include_str!("../../../templates/client_decode.hbs")),
    ("client_decode_ret", include_str!("../../../templates/client_decode_ret.hbs")),
];

/// Files to write, by path relative to the output folder.
pub type Files = BTreeMap<PathBuf, String>;

/// Renders every file of both crates. `runtime_path` is the runtime crate's path as the
/// generated `Cargo.toml` files should name it (relative to each crate).
pub fn render(model: &Model, spec_file: &str, runtime_path: &str) -> Result<Files, String> {
    let mut view = view::build(model, spec_file)
        .map_err(|items| format!("dllgen generate cannot emit these yet:\n  {}", items.join("\n  ")))?;
    view.runtime_path = runtime_path.to_string();
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_escape_fn(handlebars::no_escape);
    for (name, text) in TEMPLATES {
        hb.register_template_string(name, text).map_err(|e| format!("template {name}: {e}"))?;
    }
    let render = |name: &str| hb.render(name, &view).map_err(|e| format!("template {name}: {e}"));
    let (host, client) = (view.host_crate.clone(), view.client_crate.clone());
    let mut files = Files::new();
    files.insert(PathBuf::from(&host).join("Cargo.toml"), render("host_cargo")?);
    files.insert(PathBuf::from(&host).join("src/main.rs"), rust("host_main", &render("host_main")?)?);
    files.insert(PathBuf::from(&client).join("Cargo.toml"), render("client_cargo")?);
    files.insert(PathBuf::from(&client).join("src/lib.rs"), rust("client_lib", &render("client_lib")?)?);
    Ok(files)
}

/// Parses and formats generated Rust; a template bug shows the numbered text.
fn rust(template: &str, text: &str) -> Result<String, String> {
    match syn::parse_file(text) {
        Ok(file) => {
            // prettyplease drops the leading `//` comment: keep the generated-by line first.
            let first = text
                .lines()
                .next()
                .filter(|l| l.starts_with("// "))
                .map(|l| format!("{l}\n"))
                .unwrap_or_default();
            Ok(first + &prettyplease::unparse(&file))
        }
        Err(e) => {
            let start = e.span().start();
            let numbered: String = text
                .lines()
                .enumerate()
                .skip(start.line.saturating_sub(6))
                .take(12)
                .map(|(i, l)| format!("{:>5} | {l}\n", i + 1))
                .collect();
            Err(format!("template {template} produced invalid Rust at line {}: {e}\n{numbered}", start.line))
        }
    }
}

/// How the output differs from what is on disk.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Stale {
    /// Files missing or with other content.
    pub changed: Vec<PathBuf>,
}

/// Compares `files` with the folder `out`.
pub fn compare(files: &Files, out: &Path) -> Stale {
    let changed = files
        .iter()
        .filter(|(path, text)| std::fs::read_to_string(out.join(path)).ok().as_deref() != Some(text.as_str()))
        .map(|(path, _)| path.clone())
        .collect();
    Stale { changed }
}

/// Writes both crates into `out`, atomically per crate: each crate is written into a
/// fresh folder beside its final place, then swapped in; on any error the previous output
/// stays untouched.
pub fn write(files: &Files, out: &Path) -> std::io::Result<()> {
    let mut crates: BTreeMap<PathBuf, Vec<(&PathBuf, &String)>> = BTreeMap::new();
    for (path, text) in files {
        let top = path.components().next().map(|c| PathBuf::from(c.as_os_str())).unwrap_or_default();
        crates.entry(top).or_default().push((path, text));
    }
    std::fs::create_dir_all(out)?;
    let mut staged = Vec::new();
    for (top, entries) in &crates {
        let fresh = out.join(format!(".{}.dllgen-new", top.display()));
        let _ = std::fs::remove_dir_all(&fresh);
        for (path, text) in entries {
            let rel = path.strip_prefix(top).unwrap_or(path);
            let dest = fresh.join(rel);
            if let Some(dir) = dest.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&dest, text)?;
        }
        staged.push((fresh, out.join(top)));
    }
    for (fresh, target) in staged {
        let old = target.with_file_name(format!(
            ".{}.dllgen-old",
            target.file_name().unwrap_or_default().to_string_lossy()
        ));
        let _ = std::fs::remove_dir_all(&old);
        if target.exists() {
            std::fs::rename(&target, &old)?;
        }
        if let Err(e) = std::fs::rename(&fresh, &target) {
            // Put the previous output back.
            let _ = std::fs::rename(&old, &target);
            return Err(e);
        }
        let _ = std::fs::remove_dir_all(&old);
    }
    Ok(())
}
