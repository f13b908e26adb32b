//! The `dllgen` command line (clap derive). Exit codes: 0 success, 1 a check failed,
//! 2 bad input (unreadable or malformed file, bad arguments).

use crate::audit;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Call 32-bit DLLs from 64-bit programs: generate a 32-bit host and a 64-bit client.
#[derive(Debug, Parser)]
#[command(name = "dllgen", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate the 32-bit host crate and the 64-bit client crate for a spec.
    Generate {
        /// The spec (YAML, see specs/SCHEMA.md).
        spec: PathBuf,
        /// Where `<name>-host/` and `<name>-client/` go.
        #[arg(long, default_value = "generated")]
        out: PathBuf,
        /// Write nothing; exit 1 with the stale files listed when the output differs.
        #[arg(long)]
        check: bool,
        /// Name this runtime crate in the generated Cargo.toml files instead of writing
        /// dllgen's runtime beside them into `dllgen-runtime/` (the default).
        #[arg(long, value_name = "DIR")]
        runtime: Option<PathBuf>,
        /// Generate even from lines marked `# review` (guesses `dllgen init` made that
        /// nobody confirmed); without it they are refused, each named.
        #[arg(long)]
        accept_guesses: bool,
    },
    /// Validate a spec against its header and library; every problem is reported with
    /// file:line:col (exit code 1 when there are any).
    Check {
        /// The spec (YAML, see specs/SCHEMA.md).
        spec: PathBuf,
        /// Print the validated model (one line per function, parameter, field) instead of
        /// the summary.
        #[arg(long)]
        dump_model: bool,
    },
    /// Draft a spec from a header and a library: exports matched to prototypes, pointer
    /// parameters pre-classified, every guess marked for review.
    Init {
        /// The C header (repeatable).
        #[arg(long = "header", value_name = "H", required = true)]
        headers: Vec<PathBuf>,
        /// The 32-bit DLL (or ELF32 shared object).
        #[arg(long)]
        dll: PathBuf,
        /// The crate name stem (default: from the library's file name).
        #[arg(long)]
        name: Option<String>,
        /// Include directory for the header (repeatable).
        #[arg(short = 'I', value_name = "DIR")]
        include_dirs: Vec<PathBuf>,
        /// Preprocessor definition for the header, NAME or NAME=VALUE (repeatable).
        #[arg(short = 'D', value_name = "NAME[=VALUE]")]
        defines: Vec<String>,
        /// Write the draft here (paths in it become relative to its folder) instead of
        /// printing it; an existing file is never overwritten.
        #[arg(long, short = 'o', value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Inspect a DLL or shared object: architecture, exports, imports, and whether a 32-bit
    /// host can load it.
    Audit {
        /// The PE (.dll, .exe) or ELF (.so) file to inspect.
        file: PathBuf,
        /// Print the report as JSON (schema `dllgen-audit/1`, see docs/AUDIT-JSON.md).
        #[arg(long)]
        json: bool,
        /// Cross-check the exports against this C header (repeatable), parsed for the
        /// binary's 32-bit target.
        #[arg(long = "header", value_name = "H")]
        headers: Vec<PathBuf>,
        /// Include directory for the header (repeatable).
        #[arg(short = 'I', value_name = "DIR")]
        include_dirs: Vec<PathBuf>,
        /// Preprocessor definition for the header, NAME or NAME=VALUE (repeatable).
        #[arg(short = 'D', value_name = "NAME[=VALUE]")]
        defines: Vec<String>,
        /// Also match exports with functions declared by system headers: a system DLL
        /// (kernel32.dll) against `<windows.h>`.
        #[arg(long)]
        system_headers: bool,
    },
}

/// Runs the command line; the binary's `main` is only this.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { spec, dump_model } => run_check(&spec, dump_model),
        Command::Generate { spec, out, check, runtime, accept_guesses } => {
            run_generate(&spec, &out, check, runtime.as_deref(), accept_guesses)
        }
        Command::Init { headers, dll, name, include_dirs, defines, out } => run_init(
            &dll,
            name,
            HeaderArgs { headers, include_dirs, defines: parse_defines(&defines), system: false },
            out.as_deref(),
        ),
        Command::Audit { file, json, headers, include_dirs, defines, system_headers } => run_audit(
            &file,
            json,
            HeaderArgs { headers, include_dirs, defines: parse_defines(&defines), system: system_headers },
        ),
    }
}

fn parse_defines(defines: &[String]) -> Vec<(String, Option<String>)> {
    defines
        .iter()
        .map(|d| match d.split_once('=') {
            Some((name, value)) => (name.to_string(), Some(value.to_string())),
            None => (d.clone(), None),
        })
        .collect()
}

/// `path` as seen from `dir` (both made absolute first).
fn relative_to(dir: &Path, path: &Path) -> String {
    let (Ok(dir), Ok(path)) = (std::path::absolute(dir), std::path::absolute(path)) else {
        return path.display().to_string();
    };
    let (dir, path) = (normalize(&dir), normalize(&path));
    let (d, p): (Vec<_>, Vec<_>) = (dir.components().collect(), path.components().collect());
    let common = d.iter().zip(&p).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..d.len() {
        out.push("..");
    }
    for c in &p[common..] {
        out.push(c);
    }
    out.display().to_string()
}

/// Folds `.` and `..` out of an absolute path without touching the file system
/// (the output folder may not exist yet).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn run_init(dll: &Path, name: Option<String>, header: HeaderArgs, out: Option<&Path>) -> ExitCode {
    let shown = dll.display().to_string();
    let bytes = match crate::binary::load(dll) {
        Ok(b) => b,
        Err(e) => return error(&e.to_string()),
    };
    let binary = match crate::binary::read(&bytes) {
        Ok(b) => b,
        Err(e) => return fail(&shown, &e.to_string()),
    };
    let Some(target) = crate::check::host_target(&binary) else {
        let reason = audit::audit(&shown, &bytes).map(|r| r.verdict.reason).unwrap_or_default();
        return fail(&shown, &format!("a 32-bit host cannot load it: {reason}"));
    };
    let parsed = match header.parse(target) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let base =
        out.map(|o| o.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf());
    let shown_path = |p: &Path| match &base {
        Some(dir) => relative_to(dir, p),
        None => p.display().to_string(),
    };
    let default_name = dll
        .file_stem()
        .map(|s| {
            let s: String = s
                .to_string_lossy()
                .to_ascii_lowercase()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            if s.starts_with(|c: char| c.is_ascii_lowercase()) {
                s
            } else {
                format!("lib_{s}")
            }
        })
        .unwrap_or_else(|| "library".into());
    let name = name.unwrap_or(default_name);
    let headers: Vec<String> = header.headers.iter().map(|h| shown_path(h)).collect();
    let include_dirs: Vec<String> = header.include_dirs.iter().map(|h| shown_path(h)).collect();
    let library = shown_path(dll);
    let text = crate::init::draft(&crate::init::Draft {
        name: &name,
        headers: &headers,
        library: &library,
        include_dirs: &include_dirs,
        defines: &header.defines,
        header: &parsed,
        binary: &binary,
    });
    match out {
        None => print_out(&text),
        Some(path) => match write_new(path, &text) {
            Ok(()) => {
                eprintln!(
                    "dllgen: drafted {}; review the lines marked `# review`, then run `dllgen check {}`",
                    path.display(),
                    crate::diag::printable(&shell_word(path))
                );
                ExitCode::SUCCESS
            }
            Err(message) => fail(&path.display().to_string(), &message),
        },
    }
}

/// Writes a new file atomically (temporary file, then a rename that refuses to replace).
fn write_new(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.dllgen-{}",
        path.file_name().map(|f| f.to_string_lossy()).unwrap_or_default(),
        std::process::id()
    ));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(|e| format!("cannot write: {e}"))?;
    f.write_all(text.as_bytes()).and_then(|()| f.sync_all()).map_err(|e| format!("cannot write: {e}"))?;
    // hard_link fails if the target exists: nothing is ever overwritten.
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    linked.map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            "already exists; dllgen init never overwrites a spec".to_string()
        }
        _ => format!("cannot write: {e}"),
    })
}

fn run_generate(
    spec: &Path,
    out: &Path,
    check: bool,
    runtime: Option<&Path>,
    accept_guesses: bool,
) -> ExitCode {
    use crate::builder::GenerateError;
    let files = match crate::builder::render(spec, out, runtime, accept_guesses) {
        Ok(r) => {
            for w in &r.warnings {
                eprintln!("{w}");
            }
            r.files
        }
        Err(GenerateError::Usage(message)) => return error(&message),
        Err(GenerateError::Problems(diags)) => {
            eprintln!("{diags}");
            let n = diags.0.len();
            eprintln!("dllgen: {n} problem{} found; nothing was generated", if n == 1 { "" } else { "s" });
            return ExitCode::from(1);
        }
        Err(GenerateError::Guesses { warnings, guesses }) => {
            for w in &warnings {
                eprintln!("{w}");
            }
            eprintln!("{guesses}");
            let n = guesses.0.len();
            eprintln!(
                "dllgen: {n} unconfirmed guess{} (lines marked `# review`); nothing was generated: review each line and remove its marker, or pass --accept-guesses",
                if n == 1 { "" } else { "es" }
            );
            return ExitCode::from(1);
        }
        Err(GenerateError::Emit(e) | GenerateError::Write(e)) => {
            eprintln!("dllgen: error: {e}");
            return ExitCode::from(1);
        }
    };
    if check {
        let stale = crate::emit::compare(&files, out);
        if stale.changed.is_empty() {
            println!("{}: generated crates in {} are up to date", spec.display(), out.display());
            return ExitCode::SUCCESS;
        }
        eprintln!(
            "dllgen: the generated crates in {} are stale; run `{}`:",
            out.display(),
            crate::diag::printable(&generate_command(spec, out, runtime))
        );
        for f in &stale.changed {
            eprintln!("  {}", f.display());
        }
        return ExitCode::from(1);
    }
    match crate::emit::write(&files, out) {
        Ok(()) => {
            for f in files.keys() {
                println!("{}", out.join(f).display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "dllgen: error: cannot write into {}: {e}; the previous output is untouched",
                out.display()
            );
            ExitCode::from(2)
        }
    }
}

/// `--out` must be a folder or not exist yet (it is created).
pub(crate) fn out_folder(out: &Path) -> Result<(), String> {
    match crate::input::stat(out) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(meta) => Err(format!("--out {} is {}, not a folder", out.display(), crate::input::kind(&meta))),
        Err(crate::input::InputError::Missing(_)) => Ok(()),
        Err(e) => Err(format!("--out: {e}")),
    }
}

/// What the proxy library is generated from, when the spec asks for one: the 64-bit
/// header, the file name (the spec's, else the library's soname, else its file name).
pub(crate) fn proxy_input(checked: &crate::check::Checked) -> Option<crate::emit::proxy::Input<'_>> {
    let spec = &checked.spec;
    let proxy = spec.proxy.as_ref()?;
    let header = checked.header64.as_ref()?;
    let file = proxy.file.as_ref().map(|f| f.value.clone()).unwrap_or_else(|| {
        let soname = match &checked.binary {
            crate::binary::Binary::Elf(elf) => elf.soname.clone(),
            crate::binary::Binary::Pe(_) => None,
        };
        soname.unwrap_or_else(|| {
            spec.library.value.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()
        })
    });
    Some(crate::emit::proxy::Input {
        header,
        file,
        default_error: proxy.error.as_ref().map(|e| e.value),
        errors: spec
            .functions
            .iter()
            .filter_map(|(name, f)| f.value.proxy_error.as_ref().map(|e| (name.clone(), e.value)))
            .collect(),
        variants: spec.variants().map(|(name, _, _)| name.to_string()).collect(),
        fixed: spec
            .functions
            .iter()
            .flat_map(|(name, f)| f.value.params.iter().map(move |(p, v)| (name, p, v)))
            .filter_map(|(name, p, v)| match &v.value.kind {
                crate::spec::ParamKind::Fixed(Some(e)) => match header.expressions.get(&e.value) {
                    Some(Ok(crate::header::ConstValue::Int { bits, bytes, signed })) => {
                        let shift = 64 - 8 * u32::from(*bytes).clamp(1, 8);
                        let v = if *signed { ((*bits << shift) as i64) >> shift } else { *bits as i64 };
                        Some(((name.clone(), p.clone()), v))
                    }
                    _ => None,
                },
                _ => None,
            })
            .collect(),
    })
}

/// The command that regenerates what `--check` found stale, ready to paste into a shell.
fn generate_command(spec: &Path, out: &Path, runtime: Option<&Path>) -> String {
    let mut words =
        vec!["dllgen".to_string(), "generate".into(), shell_word(spec), "--out".into(), shell_word(out)];
    if let Some(runtime) = runtime {
        words.extend(["--runtime".into(), shell_word(runtime)]);
    }
    words.join(" ")
}

/// `path` as one shell word: as is when it holds only characters no shell treats
/// specially, else in single quotes (a `'` inside becomes `'\''`).
fn shell_word(path: &Path) -> String {
    let s = path.display().to_string();
    let plain = !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "_-./+,:=@%".contains(c));
    if plain {
        s
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The runtime crate's path as the generated Cargo.toml files name it: `runtime_dir`
/// (relative to the current folder, as any path argument) seen from each crate.
pub(crate) fn runtime_path(out: &Path, runtime_dir: &Path) -> Result<String, String> {
    if runtime_dir.to_str().is_none() {
        return Err(format!("--runtime {} is not UTF-8; a Cargo.toml cannot name it", runtime_dir.display()));
    }
    // Each generated crate sits one folder below `out`.
    Ok(relative_to(&out.join("crate"), runtime_dir))
}

/// The spec's lines marked `# review`, as warnings (or errors, when they stop `generate`).
pub(crate) fn unconfirmed(spec: &crate::spec::Spec, warning: bool) -> crate::diag::Diagnostics {
    let list = spec.unconfirmed.iter().map(|u| {
        let what = if u.line.is_empty() { String::new() } else { format!(" `{}`", u.line) };
        let why = if u.reason.is_empty() { String::new() } else { format!(" ({})", u.reason) };
        let mut d = crate::diag::Diagnostic::at(
            &spec.path,
            Some(&spec.source),
            u.pos.line,
            u.pos.column,
            format!("an unconfirmed guess{what}{why}: marked `# review`"),
        )
        .hint("check it against the library's documentation, then remove the `# review` marker");
        d.warning = warning;
        d
    });
    crate::diag::Diagnostics(list.collect())
}

fn run_check(path: &Path, dump_model: bool) -> ExitCode {
    match crate::check::check(path) {
        Ok(checked) => {
            let guesses = unconfirmed(&checked.spec, true);
            if !guesses.0.is_empty() {
                eprintln!("{guesses}");
            }
            if !checked.warnings.0.is_empty() {
                eprintln!("{}", checked.warnings);
            }
            let m = &checked.model;
            let text = if dump_model {
                crate::model::dump::render(m)
            } else {
                format!(
                    "{}: ok: {} functions, {} handles, {} structs, {} callbacks; model hash {}\n",
                    path.display(),
                    m.functions.len(),
                    m.handles.len(),
                    m.structs.len(),
                    m.callbacks.len(),
                    m.hash()
                )
            };
            print_out(&text)
        }
        Err(diags) => {
            eprintln!("{diags}");
            let n = diags.0.len();
            eprintln!("dllgen: {n} problem{} found", if n == 1 { "" } else { "s" });
            ExitCode::from(1)
        }
    }
}

/// `--header`, `-I` and `-D`.
struct HeaderArgs {
    headers: Vec<PathBuf>,
    include_dirs: Vec<PathBuf>,
    defines: Vec<(String, Option<String>)>,
    /// Functions from system headers count too (`audit --system-headers`).
    system: bool,
}

impl HeaderArgs {
    /// Parses the headers for `target`; clang's errors go to stderr (exit code 2).
    fn parse(&self, target: crate::header::Target) -> Result<crate::header::Header, ExitCode> {
        let mut options = crate::header::Options::new(self.headers.clone(), target);
        options.include_dirs = self.include_dirs.clone();
        options.defines = self.defines.clone();
        options.system = self.system;
        crate::header::parse(&options).map_err(|err| {
            eprintln!("dllgen: error: the header could not be parsed:\n{err}");
            ExitCode::from(2)
        })
    }
}

fn run_audit(path: &Path, json: bool, header: HeaderArgs) -> ExitCode {
    let shown = path.display().to_string();
    let bytes = match crate::binary::load(path) {
        Ok(bytes) => bytes,
        Err(e) => return error(&e.to_string()),
    };
    let mut report = match audit::audit(&shown, &bytes) {
        Ok(report) => report,
        Err(err) => return fail(&shown, &err.to_string()),
    };
    if !header.headers.is_empty() {
        let target = audit::header_check::target_for(&report.binary);
        let parsed = match header.parse(target) {
            Ok(parsed) => parsed,
            Err(code) => return code,
        };
        let names = header.headers.iter().map(|h| h.display().to_string()).collect();
        report.header_check = Some(audit::header_check::check(&bytes, &report.binary, &parsed, names));
    }
    let text = if json {
        // Serializing plain data structures to a String cannot fail.
        serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"
    } else {
        audit::text::render(&report)
    };
    print_out(&text)
}

/// Writes to stdout; a reader that went away (`dllgen audit big.dll | head`) is not an error.
fn print_out(text: &str) -> ExitCode {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dllgen: error: cannot write the output: {e}");
            ExitCode::from(2)
        }
    }
}

fn fail(file: &str, message: &str) -> ExitCode {
    error(&format!("{file}: {message}"))
}

/// Reports bad input (exit code 2); `message` names the file, so it is made printable.
fn error(message: &str) -> ExitCode {
    eprintln!("dllgen: error: {}", crate::diag::printable(message));
    ExitCode::from(2)
}
