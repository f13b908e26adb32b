use std::process::ExitCode;

fn main() -> ExitCode {
    dllgen::cli::main()
}
