//! The `plenum` server: configuration, command line, startup and the demo council.
//!
//! The binary (`main.rs`) only parses the command line and reports errors; everything testable
//! lives here.

pub mod cli;
pub mod config;
pub mod demo;
pub mod keys;
pub mod modes;
mod startup;

pub use startup::{
    RunningServer, StartupError, demo_cipher, open_database, prepare_data_dir, start,
};
