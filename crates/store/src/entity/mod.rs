//! sea-orm entities: the rows as stored. Private to this crate; repositories convert them to and
//! from domain types.

pub mod agenda_item;
pub mod body;
pub mod consultation;
pub mod file;
pub mod legislative_term;
pub mod location;
pub mod meeting;
pub mod membership;
pub mod organization;
pub mod paper;
pub mod person;
pub mod user_account;
