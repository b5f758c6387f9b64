//! Plenum's council rules: validated domain types with no I/O and no framework types.
//!
//! Names follow OParl 1.1 wherever OParl has the concept (see `docs/design.md`, "Glossary").
//! Values that can be invalid are built with `parse`/`TryFrom`, so an invalid value cannot exist;
//! rules that span several fields live in each object's `validate`, which the store calls before
//! every write.

mod amendment;
mod auth;
mod chair;
mod decision;
mod error;
mod ids;
mod invitation;
mod live;
mod minutes;
mod model;
mod motion;
mod policy;
mod quorum;
mod rollcall;
mod standin;
mod text;
mod voting;

pub use amendment::*;
pub use auth::*;
pub use chair::*;
pub use decision::*;
pub use error::DomainError;
pub use ids::*;
pub use invitation::*;
pub use live::*;
pub use minutes::*;
pub use model::*;
pub use motion::*;
pub use policy::*;
pub use quorum::*;
pub use rollcall::*;
pub use standin::*;
pub use text::*;
pub use voting::*;

/// Result type of the domain crate.
pub type Result<T, E = DomainError> = std::result::Result<T, E>;
