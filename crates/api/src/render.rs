//! Plenum's documents as PDF: the adapter between the API's records and the document engine
//! (`plenum-render`, Typst); rendering itself goes through [`crate::pdf::render`].

use plenum_domain::{Meeting, MinutesDraft};
use plenum_render::{MinutesDocument, SignatureLine};
use plenum_store::minutes_record::{MinutesVersion, Signature, SignatureRole};
use plenum_store::repo;

use crate::routes::documents::Directory;
use crate::{AppState, Result};

/// The body's name for the letterhead of the meeting's documents.
pub async fn body_name(state: &AppState, dir: &Directory, meeting: &Meeting) -> String {
    match dir.organizations.get(&meeting.organization_id) {
        Some(o) => repo::bodies::get_live(&state.db, o.body_id)
            .await
            .map(|b| b.name.as_str().to_owned())
            .unwrap_or_default(),
        None => String::new(),
    }
}

/// The PDF of a version of the minutes with the signatures given so far: marked "ENTWURF" until
/// both have signed; each signature printed with the audit chain's sequence number and head.
pub async fn minutes_pdf(
    state: &AppState,
    dir: &Directory,
    meeting: &Meeting,
    version: &MinutesVersion,
    draft: MinutesDraft,
    signatures: &[Signature],
) -> Result<Vec<u8>> {
    let complete = SignatureRole::ALL
        .iter()
        .all(|role| signatures.iter().any(|s| s.role == *role));
    let doc = MinutesDocument {
        minutes: draft,
        body_name: body_name(state, dir, meeting).await,
        version: Some(version.version),
        draft: !complete,
        signatures: signatures
            .iter()
            .map(|s| SignatureLine {
                name: s.name.clone(),
                role_label: s.role.label_de().to_owned(),
                signed_at: s.signed_at,
                chain_head: format!("Nr. {} · {}", s.chain_seq, s.chain_head),
            })
            .collect(),
    };
    crate::pdf::render(move || plenum_render::minutes_pdf(&doc)).await
}
