//! The `dllgen` command line (clap derive). Exit codes: 0 success, 1 a check failed,
//! 2 bad input (unreadable or malformed file, bad arguments).

use crate::audit;
use clap::{Parser, Subcommand};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// PE images address at most 4 GiB; refusing larger inputs also keeps a special file such
/// as /dev/zero from being read forever.
const MAX_INPUT: u64 = 4 << 30;

/// Call 32-bit DLLs from 64-bit programs: generate a 32-bit host and a 64-bit client.
#[derive(Debug, Parser)]
#[command(name = "dllgen", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
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
    },
}

/// Runs the command line; the binary's `main` is only this.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { spec, dump_model } => run_check(&spec, dump_model),
        Command::Audit { file, json, headers, include_dirs, defines } => {
            let defines = defines
                .iter()
                .map(|d| match d.split_once('=') {
                    Some((name, value)) => (name.to_string(), Some(value.to_string())),
                    None => (d.clone(), None),
                })
                .collect();
            run_audit(&file, json, HeaderArgs { headers, include_dirs, defines })
        }
    }
}

fn run_check(path: &Path, dump_model: bool) -> ExitCode {
    match crate::check::check(path) {
        Ok(checked) => {
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
}

fn run_audit(path: &Path, json: bool, header: HeaderArgs) -> ExitCode {
    let shown = path.display().to_string();
    let bytes = match read_input(path) {
        Ok(bytes) => bytes,
        Err(message) => return fail(&shown, &message),
    };
    let mut report = match audit::audit(&shown, &bytes) {
        Ok(report) => report,
        Err(err) => return fail(&shown, &err.to_string()),
    };
    if !header.headers.is_empty() {
        let target = audit::header_check::target_for(&report.binary);
        let options = crate::header::Options {
            headers: header.headers.clone(),
            include_dirs: header.include_dirs,
            defines: header.defines,
            target,
        };
        let parsed = match crate::header::parse(&options) {
            Ok(parsed) => parsed,
            Err(err) => {
                eprintln!("dllgen: error: the header could not be parsed:\n{err}");
                return ExitCode::from(2);
            }
        };
        let names = header.headers.iter().map(|h| h.display().to_string()).collect();
        report.header_check = Some(audit::header_check::check(&report.binary, &parsed, names));
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
    eprintln!("dllgen: error: {file}: {message}");
    ExitCode::from(2)
}

fn read_input(path: &Path) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("cannot read: {e}"))?;
    if meta.is_dir() {
        return Err("is a directory, not a DLL or shared object".into());
    }
    if !meta.is_file() {
        return Err("is not a regular file (a device, pipe or socket)".into());
    }
    let mut bytes = Vec::new();
    file.take(MAX_INPUT + 1).read_to_end(&mut bytes).map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > MAX_INPUT {
        return Err(format!("larger than {} GiB; no PE image is that large", MAX_INPUT >> 30));
    }
    Ok(bytes)
}
