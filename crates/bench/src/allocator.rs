//! The benchmark binary's allocator: the system's (glibc's, as the `plenum` binary uses) wherever
//! a Plenum server runs in the process, mimalloc in the load generator of a `--processes` run.
//!
//! In a `--processes` run the load generator is a process of its own that only plays clients:
//! 10,000 of them, each of which received a convention's snapshot of several hundred kilobytes.
//! On glibc's allocator that heap stays at several gigabytes, fragmented, and during the vote the
//! load generator spent a quarter of its time in `malloc`, on the two cores it shares with the
//! nodes it measures. On mimalloc its CPU during the convention run's vote and close fell from
//! 0.63 s to 0.32–0.49 s. The nodes (`plenum-bench node`, `serve`) and in-process runs keep the
//! system allocator, so their figures are those of the real server (with mimalloc in the nodes
//! too, their peaks rose from about 260 to 362 and 411 MiB).
//!
//! The choice is made once, at the first allocation, from the process's command line, read from
//! `/proc/self/cmdline` without allocating; every later allocation and free uses the same one.

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU8, Ordering};

const UNDECIDED: u8 = 0;
const SYSTEM: u8 = 1;
const MIMALLOC: u8 = 2;

/// The allocator of the `plenum-bench` binary (see the module documentation).
pub struct BenchAllocator {
    choice: AtomicU8,
}

impl BenchAllocator {
    pub const fn new() -> Self {
        Self {
            choice: AtomicU8::new(UNDECIDED),
        }
    }

    /// The allocator this process uses: `"mimalloc"` or `"system"`.
    pub fn name(&self) -> &'static str {
        if self.uses_mimalloc() {
            "mimalloc"
        } else {
            "system"
        }
    }

    fn uses_mimalloc(&self) -> bool {
        match self.choice.load(Ordering::Relaxed) {
            SYSTEM => false,
            MIMALLOC => true,
            _ => {
                // Threads that race here read the same command line and decide alike.
                let choice = if load_generator_only() {
                    MIMALLOC
                } else {
                    SYSTEM
                };
                self.choice.store(choice, Ordering::Relaxed);
                choice == MIMALLOC
            }
        }
    }
}

impl Default for BenchAllocator {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether this process is the load generator of a run whose servers are processes of their
/// own: `plenum-bench vote … --processes`.
#[cfg(target_os = "linux")]
fn load_generator_only() -> bool {
    let Ok(fd) = rustix::fs::open(
        c"/proc/self/cmdline",
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    ) else {
        return false;
    };
    let mut buf = [0u8; 4096];
    let mut len = 0;
    while len < buf.len() {
        match rustix::io::read(&fd, &mut buf[len..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => len += n,
        }
    }
    runs_no_server(&buf[..len])
}

/// Whether a command line (as in `/proc/<pid>/cmdline`: arguments ended by NUL bytes) starts
/// a run whose servers are processes of their own: `vote` with `--processes`.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn runs_no_server(cmdline: &[u8]) -> bool {
    let mut args = cmdline.split(|&b| b == 0).skip(1);
    args.next() == Some(b"vote") && args.any(|arg| arg == b"--processes")
}

#[cfg(not(target_os = "linux"))]
fn load_generator_only() -> bool {
    false
}

// SAFETY: every call goes to the allocator chosen once for the whole process, so memory is
// always freed by the allocator that gave it.
unsafe impl GlobalAlloc for BenchAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if self.uses_mimalloc() {
            unsafe { mimalloc::MiMalloc.alloc(layout) }
        } else {
            unsafe { System.alloc(layout) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if self.uses_mimalloc() {
            unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
        } else {
            unsafe { System.alloc_zeroed(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if self.uses_mimalloc() {
            unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
        } else {
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if self.uses_mimalloc() {
            unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
        } else {
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::runs_no_server;

    #[test]
    fn only_the_load_generator_of_a_processes_run_leaves_the_system_allocator() {
        let line =
            |args: &[&str]| -> Vec<u8> { args.iter().flat_map(|a| a.bytes().chain([0])).collect() };
        assert!(runs_no_server(&line(&[
            "plenum-bench",
            "vote",
            "--nodes",
            "2",
            "--processes"
        ])));
        // In-process runs and the nodes a run starts keep the server's allocator.
        assert!(!runs_no_server(&line(&[
            "plenum-bench",
            "vote",
            "--nodes",
            "2"
        ])));
        assert!(!runs_no_server(&line(&[
            "plenum-bench",
            "node",
            "--data-dir",
            "/tmp/x",
            "--processes"
        ])));
        assert!(!runs_no_server(&line(&["plenum-bench", "serve"])));
        assert!(!runs_no_server(&line(&[
            "plenum-bench",
            "vote",
            "--processes-x"
        ])));
        assert!(!runs_no_server(b""));
    }
}
