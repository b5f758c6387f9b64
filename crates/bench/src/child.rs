//! The server under test in a process of its own (the `fanout`, `read` and `idle` runs), so that
//! its RSS and CPU time are its own and not the load generator's.
//!
//! `plenum-bench serve` (hidden) builds the benchmark world ([`crate::setup::World`]), prints one
//! JSON line describing it and serves until its stdin closes. `plenum-bench serve --bare` starts
//! Plenum on an empty SQLite database, as `plenum serve` does.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};

use crate::setup::{Participant, World};
use crate::{Backend, VoteOptions};

/// A server process started by the benchmark.
pub struct ServerProcess {
    child: std::process::Child,
    /// What the server printed about itself (`base`, and for a world `meeting`, `item`, `body`,
    /// `chair`).
    pub info: Value,
}

impl ServerProcess {
    /// Starts `exe serve …` (the benchmark's own binary) and waits for its description line.
    pub fn spawn_bench(
        exe: &Path,
        backend: Backend,
        pg_url: &str,
        members: usize,
        bare: bool,
    ) -> Result<ServerProcess> {
        let mut command = Command::new(exe);
        command
            .arg("serve")
            .args(["--backend", backend.as_str()])
            .args(["--members", &members.to_string()])
            .args(["--pg-url", pg_url]);
        if bare {
            command.arg("--bare");
        }
        ServerProcess::start(command)
    }

    /// Runs `command` with piped stdin and stdout and waits for its description line.
    fn start(mut command: Command) -> Result<ServerProcess> {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {command:?}"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow!("no stdout of the server process"))?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let info: Value = match serde_json::from_str(&line) {
            Ok(info) => info,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                bail!("the server process did not start: {line:?}");
            }
        };
        Ok(ServerProcess { child, info })
    }

    /// Starts `exe node …` (the benchmark's own binary): one more Plenum node on the shared
    /// data directory and database, in a process of its own.
    pub fn spawn_node(exe: &Path, data_dir: &Path, database_url: &str) -> Result<ServerProcess> {
        let mut command = Command::new(exe);
        command
            .arg("node")
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--database-url", database_url]);
        ServerProcess::start(command)
    }

    /// Starts the real `plenum serve` binary on a fresh data directory (SQLite) and waits until
    /// `/healthz` answers.
    pub fn spawn_plenum(exe: &Path, data_dir: &Path) -> Result<ServerProcess> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new(exe)
            .arg("serve")
            .env("PLENUM_DATA_DIR", data_dir)
            .env("PLENUM_BIND", format!("127.0.0.1:{port}"))
            .env("PLENUM_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", exe.display()))?;
        let mut server = ServerProcess {
            child,
            info: json!({"base": format!("http://127.0.0.1:{port}")}),
        };
        let started = Instant::now();
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
                && health(port).is_ok_and(|ok| ok)
            {
                return Ok(server);
            }
            if let Some(status) = server.child.try_wait()? {
                bail!("{} exited: {status}", exe.display());
            }
            if started.elapsed() > Duration::from_secs(60) {
                server.kill();
                bail!("{} did not answer /healthz within 60 s", exe.display());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn base(&self) -> String {
        self.info["base"].as_str().unwrap_or_default().to_owned()
    }

    pub fn uuid(&self, key: &str) -> Result<uuid::Uuid> {
        self.info[key]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| anyhow!("no {key} in {}", self.info))
    }

    /// The chair's login.
    pub fn chair(&self) -> Result<Participant> {
        let chair = &self.info["chair"];
        Ok(Participant {
            username: chair["username"]
                .as_str()
                .ok_or_else(|| anyhow!("no chair in {}", self.info))?
                .to_owned(),
            secret: serde_json::from_value(chair["secret"].clone())?,
            person: uuid::Uuid::nil(),
        })
    }

    /// A `/proc/<pid>/status` value of the server in MiB (`VmRSS:`, `VmHWM:`).
    pub fn status_mib(&self, key: &str) -> f64 {
        crate::proc::status_mib_of(&format!("/proc/{}/status", self.child.id()), key)
    }

    /// The server's peak RSS since the last call (or its start) in MiB, and
    /// resets it to the current RSS, so that the next phase's own peak can be read. Where the
    /// reset is not allowed, says so once: the peaks then count from the server's start.
    pub fn take_peak_rss(&self) -> f64 {
        static WARNED: std::sync::Once = std::sync::Once::new();
        let peak = self.status_mib("VmHWM:");
        if let Err(err) = std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5") {
            WARNED.call_once(|| {
                eprintln!(
                    "plenum-bench: cannot reset a node's peak RSS ({err}); the per-phase peaks \
                     count from the node's start"
                );
            });
        }
        peak
    }

    /// The server's thread count.
    pub fn threads(&self) -> usize {
        crate::proc::status_value_of(&format!("/proc/{}/status", self.child.id()), "Threads:")
            .unwrap_or(0.0) as usize
    }

    /// The server's CPU seconds so far (all its threads).
    pub fn cpu_s(&self) -> f64 {
        crate::proc::cpu_s_of(&format!("/proc/{}/stat", self.child.id()))
    }

    /// Closes the server's stdin (it shuts down and cleans up), waiting at most 30 s.
    pub fn stop(mut self) -> Result<()> {
        drop(self.child.stdin.take());
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if let Some(status) = self.child.try_wait()? {
                if !status.success() {
                    bail!("the server process ended with {status}");
                }
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.kill();
        bail!("the server process did not stop within 30 s")
    }

    /// Ends the process now (the real `plenum` binary, which does not watch stdin).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn health(port: u16) -> Result<bool> {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer.starts_with("HTTP/1.1 200"))
}

/// `plenum-bench node`: one Plenum node of a `vote --processes` run, until stdin closes.
pub fn node(data_dir: &Path, database_url: &str) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(crate::proc::SERVER_THREAD)
        .enable_all()
        .build()?;
    let config = crate::setup::node_config(data_dir, database_url)?;
    let server = runtime.block_on(plenum_server::start(&config, false))?;
    println!("{}", json!({"base": format!("http://{}", server.addr)}));
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    runtime.block_on(server.shutdown())?;
    Ok(())
}

/// `plenum-bench serve`: runs in the child process until stdin closes.
pub fn serve(backend: Backend, pg_url: &str, members: usize, bare: bool) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(crate::proc::SERVER_THREAD)
        .enable_all()
        .build()?;
    if bare {
        let data_dir = tempfile::tempdir()?;
        let config = plenum_server::config::Config {
            data_dir: data_dir.path().to_owned(),
            bind: "127.0.0.1:0".parse()?,
            ..plenum_server::config::Config::default()
        };
        let server = runtime.block_on(plenum_server::start(&config, false))?;
        println!("{}", json!({"base": format!("http://{}", server.addr)}));
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        runtime.block_on(server.shutdown())?;
        return Ok(());
    }
    let mut options = VoteOptions::new(backend, members.max(1), 0, "named");
    options.pg_url = pg_url.to_owned();
    let world = runtime.block_on(World::create(&options))?;
    let chair = world
        .people
        .first()
        .ok_or_else(|| anyhow!("no chair in the world"))?;
    println!(
        "{}",
        json!({
            "base": world.base_url(),
            "body": world.body,
            "meeting": world.meeting,
            "item": world.item,
            "agenda_meeting": world.agenda_meeting,
            "chair": {"username": chair.username, "secret": chair.secret},
        })
    );
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    runtime.block_on(world.destroy())
}

/// The soft limit of open files; raised to the hard limit when below `need`.
pub fn ensure_open_files(need: u64) -> Result<u64> {
    let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE)?;
    if soft >= need {
        return Ok(soft);
    }
    let raised = rlimit::increase_nofile_limit(need)?;
    if raised < need {
        bail!(
            "{need} open files needed, the limit is {raised} (hard limit {hard}); raise it with `ulimit -n`"
        );
    }
    Ok(raised)
}
