//! sea-orm entities: the rows as stored. Private to this crate; repositories convert them to and
//! from domain types.

pub mod agenda_item;
pub mod audit_log;
pub mod body;
pub mod calendar_feed;
pub mod consultation;
pub mod decision;
pub mod device_session;
pub mod file;
pub mod forum_post;
pub mod forum_post_revision;
pub mod forum_read;
pub mod forum_thread;
pub mod known_device;
pub mod legislative_term;
pub mod live_command;
pub mod live_session;
pub mod location;
pub mod meeting;
pub mod meeting_event;
pub mod meeting_session_setting;
pub mod membership;
pub mod note;
pub mod note_revision;
pub mod organization;
pub mod paper;
pub mod pending_login;
pub mod person;
pub mod poll_participation;
pub mod recovery_code;
pub mod second_factor_guard;
pub mod secret_ballot;
pub mod setup_link;
pub mod user_account;
pub mod user_totp;
pub mod withdrawn;
