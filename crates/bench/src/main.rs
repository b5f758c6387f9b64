//! `plenum-bench`: load benchmarks against a Plenum started in this process.
//!
//! `cargo run --release -p plenum-bench -- vote --backend sqlite --voters 500 --watchers 500 --kind secret --json`
//! `… -- fanout --clients 10000 --json`, `… -- read --json`, `… -- idle --json`,
//! `… -- extract --pages 100 --json`
//! `… -- render --items 40 --runs 20`
//! `… -- bundle --items 40 --files 100 --runs 3`

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

use plenum_bench::bundle::{BundleOptions, run_bundle};
use plenum_bench::extract::{ExtractOptions, run_extract};
use plenum_bench::fanout::{FanoutOptions, run_fanout};
use plenum_bench::idle::{IdleOptions, run_idle};
use plenum_bench::read::{ReadOptions, run_read};
use plenum_bench::render::{RenderOptions, run_render};
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
        /// Plenum nodes on one PostgreSQL database (in this process, each on its own port);
        /// logins and live connections are spread over them round robin.
        #[arg(long, default_value_t = 1)]
        nodes: usize,
        /// Run every node in a process of its own, so that each node's RSS and CPU are
        /// measured alone.
        #[arg(long)]
        processes: bool,
        /// The chair records every voter present in one command instead of each voter
        /// checking in over their own connection (a convention's registration desk).
        #[arg(long)]
        bulk_check_in: bool,
        /// Also print one JSON line with every figure.
        #[arg(long)]
        json: bool,
    },
    /// C anonymous live clients; the chair triggers E events; delivery latency and server RSS.
    Fanout {
        #[arg(long, value_enum, default_value = "sqlite")]
        backend: BackendArg,
        #[arg(long, default_value_t = 1000)]
        clients: usize,
        #[arg(long, default_value_t = 10)]
        events: usize,
        #[arg(long, default_value_t = 64)]
        connect_concurrency: usize,
        #[arg(long, env = "PLENUM_TEST_PG_URL", default_value = DEFAULT_PG_URL)]
        pg_url: String,
        #[arg(long)]
        json: bool,
    },
    /// A fixed number of GETs, a fixed number in flight, on read pages; requests/s and latency.
    Read {
        #[arg(long, value_enum, default_value = "sqlite")]
        backend: BackendArg,
        /// Council members (persons on the OParl list).
        #[arg(long, default_value_t = 50)]
        members: usize,
        /// Requests per page.
        #[arg(long, default_value_t = 2000)]
        requests: usize,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        #[arg(long, env = "PLENUM_TEST_PG_URL", default_value = DEFAULT_PG_URL)]
        pg_url: String,
        #[arg(long)]
        json: bool,
    },
    /// RSS of a freshly started, idle server (empty SQLite database).
    Idle {
        /// The `plenum` binary (default: `plenum` next to this program, if there is one).
        #[arg(long)]
        plenum: Option<PathBuf>,
        /// Use `plenum-bench serve --bare` instead of the `plenum` binary.
        #[arg(long)]
        bare: bool,
        /// Milliseconds the server sits idle before the reading.
        #[arg(long, default_value_t = 2000)]
        settle_ms: u64,
        #[arg(long)]
        json: bool,
    },
    /// Text extraction of a generated paper (what follows a PDF upload, off the request path).
    Extract {
        #[arg(long, default_value_t = 100)]
        pages: usize,
        /// Picture bytes per page (100 pages × 100 KB: a 10 MB paper).
        #[arg(long, default_value_t = 100_000)]
        padding: usize,
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Also write the generated PDF to this path.
        #[arg(long)]
        write: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Typesets the minutes of a meeting with ITEMS items (named votes of 21 members) as PDF/A,
    /// RUNS times; min/median/max render time (no server, no database).
    Render {
        #[arg(long, default_value_t = 40)]
        items: usize,
        #[arg(long, default_value_t = 20)]
        runs: usize,
        #[arg(long)]
        json: bool,
    },
    /// Typesets a member's Sitzungsmappe of a meeting with ITEMS items and FILES PDF files of
    /// PAGES pages each, RUNS times; min/median/max render time (no server, no database).
    Bundle {
        #[arg(long, default_value_t = 40)]
        items: usize,
        #[arg(long, default_value_t = 100)]
        files: usize,
        #[arg(long, default_value_t = 5)]
        pages: usize,
        /// Bytes of picture per page of each file.
        #[arg(long, default_value_t = 20_000)]
        padding: usize,
        #[arg(long, default_value_t = 3)]
        runs: usize,
        #[arg(long)]
        json: bool,
    },
    /// (Internal) one node of a `vote --processes` run, until stdin closes.
    #[command(hide = true)]
    Node {
        #[arg(long)]
        data_dir: PathBuf,
        #[arg(long)]
        database_url: String,
    },
    /// (Internal) run the server of the fanout/read/idle runs until stdin closes.
    #[command(hide = true)]
    Serve {
        #[arg(long, value_enum, default_value = "sqlite")]
        backend: BackendArg,
        #[arg(long, default_value_t = 1)]
        members: usize,
        #[arg(long, default_value = DEFAULT_PG_URL)]
        pg_url: String,
        #[arg(long)]
        bare: bool,
    },
}

fn backend_of(arg: BackendArg) -> Backend {
    match arg {
        BackendArg::Sqlite => Backend::Sqlite,
        BackendArg::Postgres => Backend::Postgres,
    }
}

/// Prints a report; the exit code says whether the run was complete.
fn finish(table: String, json_line: serde_json::Value, json: bool, ok: bool) -> ExitCode {
    print!("{table}");
    if json {
        println!("{json_line}");
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        eprintln!("error: the run was incomplete (see the table)");
        ExitCode::FAILURE
    }
}

fn failed(err: anyhow::Error) -> ExitCode {
    eprintln!("error: {err:#}");
    ExitCode::FAILURE
}

fn own_exe() -> Result<PathBuf, ExitCode> {
    std::env::current_exe().map_err(|err| failed(err.into()))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Server-side diagnostics on demand, e.g. `RUST_LOG=plenum::live::batch=debug`.
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    match cli.command {
        Command::Fanout {
            backend,
            clients,
            events,
            connect_concurrency,
            pg_url,
            json,
        } => {
            let exe = match own_exe() {
                Ok(exe) => exe,
                Err(code) => return code,
            };
            let options = FanoutOptions {
                backend: backend_of(backend),
                pg_url,
                clients,
                events,
                connect_concurrency,
                exe,
            };
            match run_fanout(&options) {
                Ok(r) => finish(r.table(), r.json(), json, r.ok()),
                Err(err) => failed(err),
            }
        }
        Command::Read {
            backend,
            members,
            requests,
            concurrency,
            pg_url,
            json,
        } => {
            let exe = match own_exe() {
                Ok(exe) => exe,
                Err(code) => return code,
            };
            let options = ReadOptions {
                backend: backend_of(backend),
                pg_url,
                members,
                requests,
                concurrency,
                exe,
            };
            match run_read(&options) {
                Ok(r) => finish(r.table(), r.json(), json, r.ok()),
                Err(err) => failed(err),
            }
        }
        Command::Idle {
            plenum,
            bare,
            settle_ms,
            json,
        } => {
            let exe = match own_exe() {
                Ok(exe) => exe,
                Err(code) => return code,
            };
            let plenum = match (bare, plenum) {
                (true, _) => None,
                (false, Some(path)) => Some(path),
                (false, None) => Some(exe.with_file_name("plenum")).filter(|p| p.is_file()),
            };
            let options = IdleOptions {
                plenum,
                exe,
                settle: Duration::from_millis(settle_ms),
            };
            match run_idle(&options) {
                Ok(r) => finish(r.table(), r.json(), json, r.ok()),
                Err(err) => failed(err),
            }
        }
        Command::Extract {
            pages,
            padding,
            runs,
            write,
            json,
        } => {
            let options = ExtractOptions {
                pages,
                padding,
                runs,
                write,
            };
            match run_extract(&options) {
                Ok(r) => finish(r.table(), r.json(), json, r.ok()),
                Err(err) => failed(err),
            }
        }
        Command::Render { items, runs, json } => match run_render(&RenderOptions { items, runs }) {
            Ok(r) => finish(r.table(), r.json(), json, r.ok()),
            Err(err) => failed(err),
        },
        Command::Bundle {
            items,
            files,
            pages,
            padding,
            runs,
            json,
        } => match run_bundle(&BundleOptions {
            items,
            files,
            pages,
            padding,
            runs,
        }) {
            Ok(r) => finish(r.table(), r.json(), json, r.ok()),
            Err(err) => failed(err),
        },
        Command::Serve {
            backend,
            members,
            pg_url,
            bare,
        } => match plenum_bench::child::serve(backend_of(backend), &pg_url, members, bare) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => failed(err),
        },
        Command::Node {
            data_dir,
            database_url,
        } => match plenum_bench::child::node(&data_dir, &database_url) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => failed(err),
        },
        Command::Vote {
            backend,
            voters,
            watchers,
            kind,
            pg_url,
            login_concurrency,
            nodes,
            processes,
            bulk_check_in,
            json,
        } => {
            let backend = backend_of(backend);
            let kind = match kind {
                KindArg::Named => "named",
                KindArg::Secret => "secret",
                KindArg::Open => "open",
            };
            let mut options = VoteOptions::new(backend, voters, watchers, kind);
            options.pg_url = pg_url;
            options.login_concurrency = login_concurrency;
            options.nodes = nodes;
            options.bulk_check_in = bulk_check_in;
            if processes {
                options.processes = match own_exe() {
                    Ok(exe) => Some(exe),
                    Err(code) => return code,
                };
            }
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
