//! `dllgen generate`: the model rendered through the templates into a host crate and a
//! client crate. Rust text is parsed with syn (a template bug is reported with the
//! template's name and the numbered text) and formatted with prettyplease. Output is
//! deterministic; writing is atomic (all files are written beside the target, then swapped
//! in), and `--check` compares instead of writing.

pub mod asynch;
pub mod constants;
pub mod kinds;
pub mod proxy;
pub mod view;

use crate::input;
use crate::model::Model;
use handlebars::Handlebars;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Templates, compiled into the binary (the folder is the source of truth).
const TEMPLATES: &[(&str, &str)] = &[
    ("host_cargo", include_str!("../../templates/host_cargo.toml.hbs")),
    ("host_main", include_str!("../../templates/host_main.rs.hbs")),
    ("client_cargo", include_str!("../../templates/client_cargo.toml.hbs")),
    ("client_lib", include_str!("../../templates/client_lib.rs.hbs")),
    ("client_build", include_str!("../../templates/client_build.rs.hbs")),
    ("proxy_cargo", include_str!("../../templates/proxy_cargo.toml.hbs")),
    ("proxy_build", include_str!("../../templates/proxy_build.rs.hbs")),
    ("proxy_lib", include_str!("../../templates/proxy_lib.rs.hbs")),
    // One partial per kind (selected by the view variant's name), and per field kind.
    ("callback", include_str!("../../templates/kinds/callback.hbs")),
    ("destroy", include_str!("../../templates/kinds/destroy.hbs")),
    ("descriptor", include_str!("../../templates/kinds/descriptor.hbs")),
    ("retain_until", include_str!("../../templates/kinds/retain_until.hbs")),
    ("retain_keep", include_str!("../../templates/kinds/retain_keep.hbs")),
    ("retained_holds", include_str!("../../templates/kinds/retained_holds.hbs")),
    ("cb_handle", include_str!("../../templates/kinds/cb_handle.hbs")),
    ("cb_string", include_str!("../../templates/kinds/cb_string.hbs")),
    ("cb_strings", include_str!("../../templates/kinds/cb_strings.hbs")),
    ("cb_in", include_str!("../../templates/kinds/cb_in.hbs")),
    ("cb_buffer", include_str!("../../templates/kinds/cb_buffer.hbs")),
    ("cb_handles", include_str!("../../templates/kinds/cb_handles.hbs")),
    ("cb_out", include_str!("../../templates/kinds/cb_out.hbs")),
    ("cb_user_data", include_str!("../../templates/kinds/cb_user_data.hbs")),
    ("cb_value", include_str!("../../templates/kinds/cb_value.hbs")),
    ("fixed", include_str!("../../templates/kinds/fixed.hbs")),
    ("handle", include_str!("../../templates/kinds/handle.hbs")),
    ("in", include_str!("../../templates/kinds/in.hbs")),
    ("in_buffer", include_str!("../../templates/kinds/in_buffer.hbs")),
    ("in_string", include_str!("../../templates/kinds/in_string.hbs")),
    ("in_strings", include_str!("../../templates/kinds/in_strings.hbs")),
    ("in_handles", include_str!("../../templates/kinds/in_handles.hbs")),
    ("out_into", include_str!("../../templates/kinds/out_into.hbs")),
    ("inout", include_str!("../../templates/kinds/inout.hbs")),
    ("resident", include_str!("../../templates/kinds/resident.hbs")),
    ("scratch", include_str!("../../templates/kinds/scratch.hbs")),
    ("cb_provide", include_str!("../../templates/kinds/cb_provide.hbs")),
    ("inout_buffer", include_str!("../../templates/kinds/inout_buffer.hbs")),
    ("inout_length", include_str!("../../templates/kinds/inout_length.hbs")),
    ("length", include_str!("../../templates/kinds/length.hbs")),
    ("out", include_str!("../../templates/kinds/out.hbs")),
    ("out_buffer", include_str!("../../templates/kinds/out_buffer.hbs")),
    ("out_handle", include_str!("../../templates/kinds/out_handle.hbs")),
    ("out_length", include_str!("../../templates/kinds/out_length.hbs")),
    ("out_string", include_str!("../../templates/kinds/out_string.hbs")),
    ("out_strings", include_str!("../../templates/kinds/out_strings.hbs")),
    ("ret_buffer", include_str!("../../templates/kinds/ret_buffer.hbs")),
    ("ret_count", include_str!("../../templates/kinds/ret_count.hbs")),
    ("ret_handle", include_str!("../../templates/kinds/ret_handle.hbs")),
    ("ret_into", include_str!("../../templates/kinds/ret_into.hbs")),
    ("ret_string", include_str!("../../templates/kinds/ret_string.hbs")),
    ("ret_value", include_str!("../../templates/kinds/ret_value.hbs")),
    ("ret_void", include_str!("../../templates/kinds/ret_void.hbs")),
    ("user_data", include_str!("../../templates/kinds/user_data.hbs")),
    ("value", include_str!("../../templates/kinds/value.hbs")),
    ("field_bits", include_str!("../../templates/fields/field_bits.hbs")),
    ("field_handle", include_str!("../../templates/fields/field_handle.hbs")),
    ("field_raw", include_str!("../../templates/fields/field_raw.hbs")),
    ("field_buffer", include_str!("../../templates/fields/field_buffer.hbs")),
    ("field_length", include_str!("../../templates/fields/field_length.hbs")),
    ("field_pointee", include_str!("../../templates/fields/field_pointee.hbs")),
    ("field_union", include_str!("../../templates/fields/field_union.hbs")),
    ("field_flexible", include_str!("../../templates/fields/field_flexible.hbs")),
    ("field_out_buffer", include_str!("../../templates/fields/field_out_buffer.hbs")),
    ("field_opaque", include_str!("../../templates/fields/field_opaque.hbs")),
    ("field_string", include_str!("../../templates/fields/field_string.hbs")),
    ("field_value", include_str!("../../templates/fields/field_value.hbs")),
];

/// The runtime's source, as compiled into dllgen (see build.rs): path below `src/`, text.
const RUNTIME_FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/runtime_files.rs"));

/// The folder `dllgen generate` writes the runtime into, beside the crates, unless the
/// crates are told to use another runtime crate (`--runtime`).
pub const RUNTIME_DIR: &str = "dllgen-runtime";

/// The runtime crate, as written beside the generated crates: its `Cargo.toml` (stamped
/// with this dllgen's version) and its source.
pub fn runtime_crate() -> Files {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_escape_fn(handlebars::no_escape);
    let manifest = hb
        .render_template(
            include_str!("../../templates/runtime_cargo.toml.hbs"),
            &serde_json::json!({ "version": env!("CARGO_PKG_VERSION") }),
        )
        .expect("the runtime's Cargo.toml template renders");
    let dir = PathBuf::from(RUNTIME_DIR);
    let mut files = Files::new();
    files.insert(dir.join("Cargo.toml"), manifest);
    for (path, text) in RUNTIME_FILES {
        files.insert(dir.join("src").join(path), (*text).to_string());
    }
    files
}

/// Files to write, by path relative to the output folder.
pub type Files = BTreeMap<PathBuf, String>;

/// Renders every file of both crates (and of the proxy library, given its input).
/// `runtime_path` is the runtime crate's path as the generated `Cargo.toml` files should
/// name it (relative to each crate).
pub fn render(
    model: &Model,
    spec_file: &str,
    runtime_path: &str,
    proxy: Option<&proxy::Input<'_>>,
) -> Result<Files, String> {
    let mut view = view::build(model, spec_file).map_err(|items| {
        format!(
            "generate cannot emit these yet:\n  {}\nhint: list their functions under `exports: exclude:` \
             in the spec to generate the rest",
            items.join("\n  ")
        )
    })?;
    view.runtime_path = runtime_path.to_string();
    view.proxy = proxy.map(|p| proxy::build(model, &view, p));
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_escape_fn(handlebars::no_escape);
    register_escapes(&mut hb);
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
    files.insert(PathBuf::from(&client).join("build.rs"), rust("client_build", &render("client_build")?)?);
    if let Some(p) = &view.proxy {
        let dir = PathBuf::from(&p.crate_name);
        files.insert(dir.join("Cargo.toml"), render("proxy_cargo")?);
        files.insert(dir.join("build.rs"), rust("proxy_build", &render("proxy_build")?)?);
        files.insert(dir.join("src/lib.rs"), rust("proxy_lib", &render("proxy_lib")?)?);
        if model.format == "pe" {
            files.insert(dir.join(format!("{}.def", p.lib_name)), proxy::def_file(p));
        }
    }
    Ok(files)
}

/// Values from user input (the spec's file name, the library's, `--runtime`, header doc
/// comments) are spelled into the output through these, one per context: `toml_str` and
/// `rust_str` for the inside of a TOML or Rust string literal, `comment` for a line of a
/// comment (a newline would end it and let the rest become TOML or Rust).
fn register_escapes(hb: &mut Handlebars<'_>) {
    handlebars::handlebars_helper!(toml_helper: |s: str| toml_str(s));
    handlebars::handlebars_helper!(rust_helper: |s: str| rust_str(s));
    handlebars::handlebars_helper!(comment_helper: |s: str| crate::diag::printable(s).into_owned());
    hb.register_helper("toml_str", Box::new(toml_helper));
    hb.register_helper("rust_str", Box::new(rust_helper));
    hb.register_helper("comment", Box::new(comment_helper));
}

/// The inside of a TOML basic string (`"..."`): quote, backslash and control characters
/// escaped (TOML allows no raw control character but tab there).
pub fn toml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// The inside of a Rust string literal: quote, backslash, control characters and the
/// bidirectional overrides (which rustc refuses in literals) escaped.
pub fn rust_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' | '\\' => out.extend(c.escape_default()),
            c if crate::diag::needs_escape(c) => out.extend(c.escape_debug()),
            c => out.push(c),
        }
    }
    out
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

/// Compares `files` with the folder `out`. What is there is read as an input (a FIFO in
/// its place would block): anything but a regular file of the same size is stale unread.
pub fn compare(files: &Files, out: &Path) -> Stale {
    let same = |path: &Path, text: &str| {
        let limit = input::Limit { what: "a generated file", max: text.len() as u64 };
        input::read(&out.join(path), limit).is_ok_and(|bytes| bytes == text.as_bytes())
    };
    let changed =
        files.iter().filter(|(path, text)| !same(path, text)).map(|(path, _)| path.clone()).collect();
    Stale { changed }
}

/// The crate folder (below the output folder) a generated file belongs to.
pub fn crate_of(path: &Path) -> PathBuf {
    path.components().next().map(|c| PathBuf::from(c.as_os_str())).unwrap_or_default()
}

/// Writes both crates into `out`, all or nothing: every crate is written into a fresh
/// folder beside its final place, then all are swapped in; on any error the previous
/// output is restored and the staging folders removed. A crate folder is replaced whole
/// (files dllgen no longer writes disappear), so a folder that dllgen did not generate
/// (its `Cargo.toml` lacks the generated-by line) is refused rather than replaced.
pub fn write(files: &Files, out: &Path) -> std::io::Result<()> {
    let mut crates: BTreeMap<PathBuf, Vec<(&PathBuf, &String)>> = BTreeMap::new();
    for (path, text) in files {
        let top = crate_of(path);
        crates.entry(top).or_default().push((path, text));
    }
    for top in crates.keys() {
        let target = out.join(top);
        if target.exists() && !generated_by_us(&target) {
            return Err(std::io::Error::other(format!(
                "{} exists and was not generated by dllgen (no `# generated by dllgen` line at the top \
                 of its Cargo.toml); move it away or choose another --out",
                target.display()
            )));
        }
    }
    std::fs::create_dir_all(out)?;
    let aside = |top: &Path, what: &str| out.join(format!(".{}.dllgen-{what}", top.display()));
    let mut staged = Vec::new();
    let result = (|| {
        for (top, entries) in &crates {
            let fresh = aside(top, "new");
            let _ = std::fs::remove_dir_all(&fresh);
            staged.push(fresh.clone());
            for (path, text) in entries {
                let dest = fresh.join(path.strip_prefix(top).unwrap_or(path));
                if let Some(dir) = dest.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                std::fs::write(&dest, text)?;
            }
        }
        Ok(())
    })();
    if let Err(e) = result {
        for dir in &staged {
            let _ = std::fs::remove_dir_all(dir);
        }
        return Err(e);
    }
    // Swap: every existing crate moves aside, every fresh one moves in; undone on error.
    let mut done: Vec<(&PathBuf, bool)> = Vec::new();
    let mut failure = None;
    for top in crates.keys() {
        let (target, old, fresh) = (out.join(top), aside(top, "old"), aside(top, "new"));
        let _ = std::fs::remove_dir_all(&old);
        let had = target.exists();
        if had {
            if let Err(e) = std::fs::rename(&target, &old) {
                failure = Some(e);
                break;
            }
        }
        if let Err(e) = std::fs::rename(&fresh, &target) {
            if had {
                let _ = std::fs::rename(&old, &target);
            }
            failure = Some(e);
            break;
        }
        done.push((top, had));
    }
    if let Some(e) = failure {
        for (top, had) in done {
            let (target, old) = (out.join(top), aside(top, "old"));
            let _ = std::fs::remove_dir_all(&target);
            if had {
                let _ = std::fs::rename(&old, &target);
            }
        }
        for dir in &staged {
            let _ = std::fs::remove_dir_all(dir);
        }
        return Err(e);
    }
    for top in crates.keys() {
        let _ = std::fs::remove_dir_all(aside(top, "old"));
    }
    Ok(())
}

/// Whether the crate folder was written by dllgen (its Cargo.toml, a regular file, starts
/// by saying so); only that first line is read.
fn generated_by_us(dir: &Path) -> bool {
    const MARK: &[u8] = b"# generated by dllgen";
    let limit = input::Limit { what: "a generated Cargo.toml", max: u64::MAX };
    let Ok((file, _)) = input::open(&dir.join("Cargo.toml"), limit) else { return false };
    let mut start = Vec::new();
    file.take(MARK.len() as u64).read_to_end(&mut start).is_ok() && start == MARK
}
