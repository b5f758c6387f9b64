//! Black-box tests: the real server on a free port, spoken to over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod demo;
mod documents;
mod files;
mod health;
mod helpers;
mod live;
mod oparl;
mod search;
