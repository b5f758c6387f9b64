//! `plenum-bench`: load benchmarks against a Plenum started in this process.
//!
//! `cargo run --release -p plenum-bench -- vote --backend sqlite --voters 500 --watchers 500 --kind secret --json`

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use plenum_bench::{Backend, DEFAULT_PG_URL, VoteOptions, run_vote};

#[derive(Debug, Parser)]
#[command(
    name = "plenum-bench",
    about = "Load benchmarks for Plenum (in-process server)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum BackendArg {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum KindArg {
    Named,
    Secret,
    Open,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// N members vote at the same instant over their own WebSockets; M more clients watch.
    Vote {
        #[arg(long, value_enum, default_value = "sqlite")]
        backend: BackendArg,
        /// Voting members (a chair comes on top).
        #[arg(long, default_value_t = 50)]
        voters: usize,
        /// Watchers: half advisory members (logged in, no vote), half anonymous room displays.
        #[arg(long, default_value_t = 50)]
        watchers: usize,
        #[arg(long, value_enum, default_value = "named")]
        kind: KindArg,
        /// PostgreSQL server on which a fresh database is created (and dropped afterwards).
        #[arg(long, env = "PLENUM_TEST_PG_URL", default_value = DEFAULT_PG_URL)]
        pg_url: String,
        /// Logins in flight at once.
        #[arg(long, default_value_t = 16)]
        login_concurrency: usize,
        /// Also print one JSON line with every figure.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Vote {
            backend,
            voters,
            watchers,
            kind,
            pg_url,
            login_concurrency,
            json,
        } => {
            let backend = match backend {
                BackendArg::Sqlite => Backend::Sqlite,
                BackendArg::Postgres => Backend::Postgres,
            };
            let kind = match kind {
                KindArg::Named => "named",
                KindArg::Secret => "secret",
                KindArg::Open => "open",
            };
            let mut options = VoteOptions::new(backend, voters, watchers, kind);
            options.pg_url = pg_url;
            options.login_concurrency = login_concurrency;
            match run_vote(&options) {
                Ok(report) => {
                    print!("{}", report.table());
                    if json {
                        println!("{}", report.json());
                    }
                    if report.ok() {
                        ExitCode::SUCCESS
                    } else {
                        eprintln!(
                            "error: not every ballot was acked or not every client got the right result"
                        );
                        ExitCode::FAILURE
                    }
                }
                Err(err) => {
                    eprintln!("error: {err:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
