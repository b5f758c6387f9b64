//! Black-box tests: the real server on a free port, spoken to over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod annotations;
mod attendance;
mod attendance_register;
mod auth;
mod body_settings;
mod bundle;
mod calendar;
mod chair;
mod clerk;
mod cluster;
mod collab;
mod contract;
mod decisions;
mod demo;
mod documents;
mod files;
mod forums;
mod health;
mod helpers;
mod invitation_pdf;
mod invitations;
mod live;
mod minutes;
mod minutes_pdf;
mod notes;
mod oparl;
mod oparl_record;
mod protocol;
mod reader;
mod rollcall;
mod search;
mod secret;
mod signed_minutes;
mod standin;
