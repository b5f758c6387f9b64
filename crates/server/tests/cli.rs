//! The `plenum` binary as an operator meets it: commands, clear one-line errors, shutdown.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_plenum");

fn web_dir() -> String {
    format!("{}/../../web", env!("CARGO_MANIFEST_DIR"))
}

/// `plenum` with a clean environment and its own data directory.
fn plenum(data_dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("PLENUM_DATABASE_URL")
        .env_remove("PLENUM_BIND")
        .env_remove("RUST_LOG")
        .env("PLENUM_WEB_DIR", web_dir())
        .env("PLENUM_DATA_DIR", data_dir)
        .stdin(Stdio::null());
    cmd
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The run failed with exactly one clear `error:` line and no panic.
fn assert_one_line_error(output: &Output, needle: &str) {
    assert!(!output.status.success(), "expected failure: {output:?}");
    let err = stderr(output);
    let error_lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(error_lines.len(), 1, "one error line in: {err}");
    assert!(error_lines[0].contains(needle), "{needle:?} in {err}");
    assert!(!err.contains("panicked"), "no panic: {err}");
    assert!(!err.contains("backtrace"), "no backtrace: {err}");
}

#[test]
fn an_unparseable_database_url_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = plenum(dir.path())
        .args(["--database-url", "mysql//nonsense", "migrate"])
        .output()
        .unwrap();
    assert_one_line_error(&output, "invalid database URL");
}

#[test]
fn an_unreachable_postgres_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let output = plenum(dir.path())
        .args([
            "--database-url",
            "postgres://plenum:geheim@127.0.0.1:1/plenum",
            "migrate",
        ])
        .output()
        .unwrap();
    assert_one_line_error(
        &output,
        "cannot use database postgres://plenum:***@127.0.0.1:1/plenum",
    );
    assert!(
        !stderr(&output).contains("geheim"),
        "the password is never printed"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn a_port_in_use_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = plenum(dir.path())
        .args(["serve", "--bind", &addr])
        .output()
        .unwrap();
    assert_one_line_error(&output, &format!("cannot listen on {addr}"));
}

#[test]
fn an_unusable_data_directory_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let output = plenum(&file.join("data")).arg("migrate").output().unwrap();
    assert_one_line_error(&output, "data directory");
}

#[test]
fn a_bad_setting_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = plenum(dir.path())
        .env("PLENUM_BIND", "not-an-address")
        .arg("print-config")
        .output()
        .unwrap();
    assert_one_line_error(&output, "invalid configuration");
}

#[test]
fn print_config_shows_layers_and_hides_secrets() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("plenum.toml"),
        "bind = \"127.0.0.1:9999\"\nlog = \"debug\"\n",
    )
    .unwrap();
    let output = plenum(dir.path())
        .current_dir(dir.path())
        .env("PLENUM_LOG", "warn")
        .env(
            "PLENUM_DATABASE_URL",
            "postgres://plenum:geheim@db:5432/plenum",
        )
        .arg("print-config")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("bind = \"127.0.0.1:9999\""), "{text}");
    assert!(text.contains("log = \"warn\""), "env beats file: {text}");
    assert!(
        text.contains("postgres://plenum:***@db:5432/plenum"),
        "{text}"
    );
    assert!(!text.contains("geheim"));
}

#[test]
fn migrate_creates_the_schema_and_reports_status() {
    let dir = tempfile::tempdir().unwrap();
    let output = plenum(dir.path()).arg("migrate").output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(dir.path().join("plenum.sqlite3").is_file());
    let status = plenum(dir.path())
        .args(["migrate", "--status"])
        .output()
        .unwrap();
    let text = stdout(&status);
    assert!(
        text.contains("applied  m20261123_000001_create_body_and_people"),
        "{text}"
    );
    assert!(!text.contains("pending"), "{text}");
}

#[test]
fn demo_loads_once_prints_logins_and_refuses_foreign_data() {
    let dir = tempfile::tempdir().unwrap();
    let first = plenum(dir.path()).arg("demo").output().unwrap();
    assert!(first.status.success(), "{}", stderr(&first));
    let text = stdout(&first);
    assert!(text.contains("DEMO ONLY"));
    assert!(text.contains("katharina.brandt"));
    assert!(text.contains("Musterstadt-Demo-2026"));
    let second = plenum(dir.path()).arg("demo").output().unwrap();
    assert!(second.status.success());
    assert!(stdout(&second).contains("already loaded"));

    let other = tempfile::tempdir().unwrap();
    let mut add = plenum(other.path())
        .args([
            "user",
            "add",
            "--username",
            "ratsbuero",
            "--display-name",
            "Ratsbüro",
            "--role",
            "clerk",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"ein-langes-passwort\n")
        .unwrap();
    let added = add.wait_with_output().unwrap();
    assert!(added.status.success(), "{}", stderr(&added));
    assert!(stdout(&added).contains("created user ratsbuero (clerk)"));
    assert!(!stdout(&added).contains("ein-langes-passwort"));
    let refused = plenum(other.path()).arg("demo").output().unwrap();
    assert_one_line_error(&refused, "not the demo council");
    let forced = plenum(other.path())
        .args(["demo", "--force"])
        .output()
        .unwrap();
    assert!(forced.status.success(), "{}", stderr(&forced));
}

#[test]
fn user_add_generates_a_password_and_refuses_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "user",
        "add",
        "--username",
        "Admin.Two",
        "--display-name",
        "Zweite Admin",
        "--role",
        "admin",
    ];
    let output = plenum(dir.path()).args(args).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("created user admin.two (admin)"), "{text}");
    let password = text
        .lines()
        .find_map(|l| l.strip_prefix("initial password (shown once): "))
        .unwrap();
    assert_eq!(password.len(), 20);
    let again = plenum(dir.path()).args(args).output().unwrap();
    assert_one_line_error(&again, "already exists");
    let bad = plenum(dir.path())
        .args(["user", "add", "--username", "x", "--display-name", "X"])
        .output()
        .unwrap();
    assert_one_line_error(&bad, "username");
}

#[test]
fn serve_answers_and_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = plenum(dir.path())
        .args(["serve", "--bind", "127.0.0.1:0", "--demo"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("server exited before listening")
            .unwrap();
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split('/').next().unwrap().to_owned();
        }
    };
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    std::io::Read::read_to_string(&mut stream, &mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let key = dir.path().join("signing.key");
    assert_eq!(std::fs::metadata(&key).unwrap().len(), 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status:?}; log: {rest:?}");
    assert!(
        rest.iter().any(|l| l.contains("Plenum stopped")),
        "{rest:?}"
    );
}

#[test]
fn audit_verify_passes_and_then_names_an_altered_entry() {
    let dir = tempfile::tempdir().unwrap();
    let mut add = plenum(dir.path())
        .args([
            "user",
            "add",
            "--username",
            "pruefer",
            "--display-name",
            "Prüfer",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"ein-langes-passwort\n")
        .unwrap();
    assert!(add.wait_with_output().unwrap().status.success());
    // Failed logins go to the audit log; make a few through a running server.
    let mut child = plenum(dir.path())
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("server exited").unwrap();
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split('/').next().unwrap().to_owned();
        }
    };
    for _ in 0..3 {
        let body = r#"{"username":"pruefer","password":"falsch-falsch"}"#;
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        write!(
            stream,
            "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        std::io::Read::read_to_string(&mut stream, &mut response).unwrap();
        assert!(response.starts_with("HTTP/1.1 401"), "{response}");
    }
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap();

    let ok = plenum(dir.path())
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(
        stdout(&ok).contains("audit log intact: 3 entries"),
        "{}",
        stdout(&ok)
    );
    assert!(
        stdout(&ok).contains("head: entry 3, hash "),
        "{}",
        stdout(&ok)
    );
    assert!(
        stdout(&ok).contains("anchor: entry 3 in "),
        "{}",
        stdout(&ok)
    );

    // Cut the tail, as someone with the database file could: the anchor outside it tells.
    let db = dir.path().join("plenum.sqlite3");
    let status = Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"DELETE FROM audit_log WHERE seq=3\"); c.commit()",
            db.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let cut = plenum(dir.path())
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert_one_line_error(&cut, "audit log broken at entry 3");
    assert!(stderr(&cut).contains("removed"), "{}", stderr(&cut));

    // Rewrite history by hand.
    let status = Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE audit_log SET subject='someone-else' WHERE seq=2\"); c.commit()",
            db.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let broken = plenum(dir.path())
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert_one_line_error(&broken, "audit log broken at entry 2");
}

#[cfg(unix)]
#[test]
fn the_data_directory_is_private_and_loose_modes_are_named() {
    use std::os::unix::fs::PermissionsExt;
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let root = tempfile::tempdir().unwrap();
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data_dir = root.path().join("data");
    let output = plenum(&data_dir).arg("migrate").output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(mode(&data_dir), 0o700, "the data directory");
    let db = data_dir.join("plenum.sqlite3");
    assert_eq!(mode(&db), 0o600, "the database");
    for entry in std::fs::read_dir(&data_dir).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path) & 0o077, 0, "{} is private", path.display());
    }
    assert!(
        !stderr(&output).contains("readable by other local users"),
        "{}",
        stderr(&output)
    );

    // An older installation with loose modes: named at start.
    std::fs::set_permissions(&data_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let output = plenum(&data_dir).arg("migrate").output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let log = stderr(&output);
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("readable by other local users"))
        .collect();
    // The directory and the database are named; SQLite gives its -wal and
    // -shm files the database's mode, so they may be named too while they
    // exist. Nothing else is.
    let others: Vec<&&str> = warnings
        .iter()
        .filter(|l| !l.contains("plenum.sqlite3"))
        .collect();
    assert_eq!(others.len(), 1, "{log}");
    assert!(others[0].contains("755"), "{log}");
    assert!(
        warnings
            .iter()
            .any(|l| l.contains("plenum.sqlite3") && l.contains("644")),
        "{log}"
    );
}
