//! Process figures from /proc (Linux): CPU seconds per thread group and peak RSS.
//!
//! Server and load generator share one process; their threads are told apart by name: the
//! client runtime's threads are called [`CLIENT_THREAD`], everything else (the server runtime,
//! its blocking pool, the SQLite worker threads, the main thread) counts as server.

use std::collections::HashMap;

/// The thread name of the load generator's runtime.
pub const CLIENT_THREAD: &str = "bench-client";
/// The thread name of the server's runtime.
pub const SERVER_THREAD: &str = "plenum-server";

/// Linux reports CPU time in USER_HZ ticks, which is 100 on every architecture Rust supports.
const TICKS_PER_SECOND: f64 = 100.0;

/// utime + stime in ticks from a `stat` line, and the thread name.
fn parse_stat(stat: &str) -> Option<(String, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat[open + 1..close].to_owned();
    let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
    // After the name: state is field 3, utime field 14, stime field 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((name, utime + stime))
}

/// CPU ticks of the whole process (including exited threads) and of each live client thread.
#[derive(Debug, Clone, Default)]
pub struct CpuSample {
    process: u64,
    client: HashMap<String, u64>,
}

impl CpuSample {
    pub fn now() -> CpuSample {
        let process = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|s| parse_stat(&s))
            .map(|(_, t)| t)
            .unwrap_or(0);
        let mut client = HashMap::new();
        if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
            for task in tasks.flatten() {
                let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
                    continue;
                };
                if let Some((name, ticks)) = parse_stat(&stat)
                    && name.starts_with(CLIENT_THREAD)
                {
                    client.insert(task.file_name().to_string_lossy().into_owned(), ticks);
                }
            }
        }
        CpuSample { process, client }
    }

    /// (server, client) CPU seconds between `self` and a later sample.
    pub fn split_since(&self, later: &CpuSample) -> (f64, f64) {
        let total = later.process.saturating_sub(self.process);
        let client: u64 = later
            .client
            .iter()
            .map(|(tid, t)| t.saturating_sub(self.client.get(tid).copied().unwrap_or(0)))
            .sum();
        let server = total.saturating_sub(client);
        (
            server as f64 / TICKS_PER_SECOND,
            client as f64 / TICKS_PER_SECOND,
        )
    }
}

/// A `/proc/self/status` value in MiB (`VmHWM`, `VmRSS`).
pub fn status_mib(key: &str) -> f64 {
    status_mib_of("/proc/self/status", key)
}

/// A value of a `/proc/<pid>/status` file in MiB.
pub fn status_mib_of(path: &str, key: &str) -> f64 {
    status_value_of(path, key)
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// The number after `key` in a `/proc/<pid>/status` file (kB for memory values).
pub fn status_value_of(path: &str, key: &str) -> Option<f64> {
    std::fs::read_to_string(path).ok().and_then(|s| {
        s.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
    })
}

/// The CPU seconds (user + system, all threads) of a `/proc/<pid>/stat` file.
pub fn cpu_s_of(path: &str) -> f64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| parse_stat(&s))
        .map(|(_, t)| t as f64 / TICKS_PER_SECOND)
        .unwrap_or(0.0)
}

/// Resets the peak RSS (`VmHWM`) to the current RSS, so that a phase's own peak can be read.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_stat_line_with_spaces_in_the_name() {
        let line = "42 (bench client) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 4 0";
        assert_eq!(parse_stat(line), Some(("bench client".to_owned(), 10)));
    }
}
