//! The `ferrous` binary: argument parsing and calls into the library.
//! Errors are printed once, with their whole cause chain, on one line.

mod cli;
mod index;
mod mem;
mod output;
mod runlog;
mod stage;
mod trace;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};
use ferrous::pipeline::Step;

fn main() -> ExitCode {
    runlog::start();
    // `ferrous mem` alone prints its usage, as `bwa mem` does.
    if std::env::args().skip(1).eq(["mem"]) {
        let mut cmd = <Cli as clap::CommandFactory>::command();
        cmd.build();
        if let Some(mem) = cmd.find_subcommand_mut("mem") {
            let _ = writeln!(io::stderr(), "{}", mem.render_help());
        }
        return ExitCode::FAILURE;
    }
    let cli = Cli::parse();
    if cli.version {
        println!("{}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let Some(command) = cli.command else {
        eprintln!("error: no subcommand given; see `ferrous --help`");
        return ExitCode::from(2);
    };
    match run(command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let _ = writeln!(io::stderr(), "error: {}", one_line(&err));
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Index(args) => index::run(&args),
        Command::Mem(args) => mem::run(&args),
        Command::Split(args) => stage::split(&args),
        Command::Seed(args) => stage::step(Step::Seed, &args),
        Command::Chain(args) => stage::step(Step::Chain, &args),
        Command::Extend(args) => stage::step(Step::Extend, &args),
        Command::Pair(args) => stage::step(Step::Pair, &args),
        Command::Rescue(args) => stage::step(Step::Rescue, &args),
        Command::Emit(args) => stage::emit(&args),
    }
}

/// The error and its causes on one line, each cause once: library errors
/// often already quote their source in their own message.
fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    line.replace('\n', " ")
}

/// A closed output pipe (`ferrous ... | head`) ends the run quietly.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
