//! `dllgen generate` as a library, for build scripts (as bindgen's `Builder`): the spec
//! checked and rendered, the crates written atomically, and cargo told which inputs to
//! watch. The command line's `generate` runs through [`render`] too.
//!
//! ```no_run
//! // build.rs
//! dllgen::Builder::new("specs/zlib.yaml").out_dir("generated").generate().unwrap();
//! ```

use crate::diag::Diagnostics;
use crate::emit::Files;
use std::path::{Path, PathBuf};

/// Why nothing was generated.
#[derive(Debug)]
pub enum GenerateError {
    /// A bad argument (the output folder, the runtime path).
    Usage(String),
    /// The spec, library or header has problems, each with its position.
    Problems(Diagnostics),
    /// Lines marked `# review` (guesses nobody confirmed), not accepted; with the
    /// warnings found before them.
    Guesses { warnings: Vec<Diagnostics>, guesses: Diagnostics },
    /// The model has what the generator cannot emit yet.
    Emit(String),
    /// Writing failed; the previous output is untouched.
    Write(String),
}

impl std::fmt::Display for GenerateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = |d: &Diagnostics, one: &str, many: &str| {
            let n = d.0.len();
            format!("{n} {}", if n == 1 { one } else { many })
        };
        match self {
            GenerateError::Usage(m) | GenerateError::Emit(m) | GenerateError::Write(m) => write!(f, "{m}"),
            GenerateError::Problems(d) => {
                write!(f, "{d}\n{} found; nothing was generated", count(d, "problem", "problems"))
            }
            GenerateError::Guesses { warnings, guesses } => {
                for w in warnings {
                    writeln!(f, "{w}")?;
                }
                write!(
                    f,
                    "{guesses}\n{} (lines marked `# review`); nothing was generated: review each line and remove its marker, or accept them",
                    count(guesses, "unconfirmed guess", "unconfirmed guesses")
                )
            }
        }
    }
}

impl std::error::Error for GenerateError {}

/// What [`render`] produced: the files, what to warn about, and the inputs they came from.
pub struct Rendered {
    pub files: Files,
    /// Warnings of `check` (conventions), and accepted guesses.
    pub warnings: Vec<Diagnostics>,
    /// The spec, its headers and the library: what the output depends on.
    pub inputs: Vec<PathBuf>,
}

/// Checks `spec` and renders the crates for the folder `out`, with the runtime crate
/// written beside them, or, given `runtime`, that runtime crate named instead. Nothing is
/// written.
pub fn render(
    spec: &Path,
    out: &Path,
    runtime: Option<&Path>,
    accept_guesses: bool,
) -> Result<Rendered, GenerateError> {
    crate::cli::out_folder(out).map_err(GenerateError::Usage)?;
    let checked = crate::check::check(spec).map_err(GenerateError::Problems)?;
    let mut warnings = Vec::new();
    if !checked.warnings.0.is_empty() {
        warnings.push(Diagnostics(checked.warnings.0.clone()));
    }
    let guesses = crate::cli::unconfirmed(&checked.spec, accept_guesses);
    if !guesses.0.is_empty() {
        if !accept_guesses {
            return Err(GenerateError::Guesses { warnings, guesses });
        }
        warnings.push(guesses);
    }
    let runtime_path = match runtime {
        Some(dir) => crate::cli::runtime_path(out, dir).map_err(GenerateError::Usage)?,
        None => format!("../{}", crate::emit::RUNTIME_DIR),
    };
    let spec_file = spec.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let proxy = crate::cli::proxy_input(&checked);
    let mut files = crate::emit::render(&checked.model, &spec_file, &runtime_path, proxy.as_ref())
        .map_err(GenerateError::Emit)?;
    if runtime.is_none() {
        files.extend(crate::emit::runtime_crate());
    }
    let mut inputs = vec![spec.to_path_buf()];
    inputs.extend(checked.spec.headers.iter().map(|h| h.value.clone()));
    inputs.push(checked.spec.library.value.clone());
    Ok(Rendered { files, warnings, inputs })
}

/// `dllgen generate` for a build script.
#[derive(Debug, Clone)]
pub struct Builder {
    spec: PathBuf,
    out: PathBuf,
    runtime: Option<PathBuf>,
    accept_guesses: bool,
    rerun: bool,
}

impl Builder {
    /// Generation from the spec at `spec` into `generated` beside it, telling cargo to run
    /// the build script again when the spec, its headers or its library change.
    pub fn new(spec: impl Into<PathBuf>) -> Builder {
        let spec = spec.into();
        let out = spec.parent().map_or_else(|| PathBuf::from("generated"), |p| p.join("generated"));
        Builder { spec, out, runtime: None, accept_guesses: false, rerun: true }
    }

    /// The folder the crates go into (`<name>-host`, `<name>-client`...).
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Builder {
        self.out = dir.into();
        self
    }

    /// Name this runtime crate's folder in the generated `Cargo.toml` files (a relative
    /// path: from the build script's folder), instead of writing the runtime beside them
    /// (`dllgen-runtime/`).
    pub fn runtime(mut self, dir: impl Into<PathBuf>) -> Builder {
        self.runtime = Some(dir.into());
        self
    }

    /// Generate even with lines marked `# review` (printed as warnings).
    pub fn accept_guesses(mut self, yes: bool) -> Builder {
        self.accept_guesses = yes;
        self
    }

    /// Print `cargo:rerun-if-changed=` for each input (default: yes).
    pub fn rerun_if_changed(mut self, yes: bool) -> Builder {
        self.rerun = yes;
        self
    }

    /// Checks, renders and writes the crates (atomically: a failure leaves the previous
    /// output as it was). Only crates whose files changed are written, so an up-to-date
    /// output keeps its timestamps and nothing is rebuilt. Returns the files written
    /// (none when all was up to date). Warnings go to stderr, where cargo shows them with
    /// `-vv`; a build script also gets a `cargo:warning` naming what was regenerated
    /// (crates this build already compiled take it in the next build).
    pub fn generate(&self) -> Result<Vec<PathBuf>, GenerateError> {
        let rendered = render(&self.spec, &self.out, self.runtime.as_deref(), self.accept_guesses);
        if self.rerun {
            // Even when generation fails: fixing an input must run the script again.
            println!("cargo:rerun-if-changed={}", self.spec.display());
            if let Ok(r) = &rendered {
                for input in &r.inputs[1..] {
                    println!("cargo:rerun-if-changed={}", input.display());
                }
            }
        }
        let rendered = rendered?;
        for w in &rendered.warnings {
            eprintln!("{w}");
        }
        let stale: std::collections::BTreeSet<_> = crate::emit::compare(&rendered.files, &self.out)
            .changed
            .iter()
            .map(|p| crate::emit::crate_of(p))
            .collect();
        let files: crate::emit::Files = rendered
            .files
            .into_iter()
            .filter(|(path, _)| stale.contains(&crate::emit::crate_of(path)))
            .collect();
        if files.is_empty() {
            return Ok(Vec::new());
        }
        crate::emit::write(&files, &self.out).map_err(|e| {
            GenerateError::Write(format!(
                "cannot write into {}: {e}; the previous output is untouched",
                self.out.display()
            ))
        })?;
        if self.rerun {
            let names: Vec<String> = stale.iter().map(|t| t.display().to_string()).collect();
            println!(
                "cargo:warning=dllgen regenerated {} in {} from {}",
                names.join(", "),
                self.out.display(),
                self.spec.display()
            );
        }
        Ok(files.keys().map(|f| self.out.join(f)).collect())
    }
}
