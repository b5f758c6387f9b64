//! Plenum's documents as PDF: the adapter between the API's records and the document engine
//! (`plenum-render`, Typst); rendering itself goes through [`crate::pdf::render`].

use plenum_domain::{InvitationDocument, InvitationKind, Meeting, MinutesDraft};
use plenum_render::{InvitationPdf, InvitationVariant, MinutesDocument, SignatureLine};
use plenum_store::minutes_record::{MinutesVersion, Signature, SignatureRole};
use plenum_store::repo;
use sha2::{Digest, Sha256};

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

/// An invitation or supplement ready to render, with its entity tag (known before rendering, so
/// a cached copy is confirmed without typesetting).
pub struct InvitationRendering {
    input: InvitationPdf,
    /// A strong `ETag`: the SHA-256 of what the PDF is made of (document, body name, variant)
    /// and of Plenum's version (the templates belong to it). Equal input gives equal bytes.
    pub etag: String,
    /// "Einladung 3. Sitzung des Rates ….pdf", "Nachtrag 1 ….pdf", "Bekanntmachung ….pdf".
    pub file_name: String,
}

impl InvitationRendering {
    pub fn render_pdf(self) -> impl std::future::Future<Output = Result<Vec<u8>>> {
        let input = self.input;
        crate::pdf::render(move || plenum_render::invitation_pdf(&input))
    }
}

/// What the PDF of `document` in `variant` is made of (rendered later with
/// [`InvitationRendering::render_pdf`]).
pub async fn invitation_pdf(
    state: &AppState,
    dir: &Directory,
    meeting: &Meeting,
    document: InvitationDocument,
    variant: InvitationVariant,
) -> InvitationRendering {
    let body_name = body_name(state, dir, meeting).await;
    let mut hash = Sha256::new();
    hash.update(env!("CARGO_PKG_VERSION").as_bytes());
    hash.update([0]);
    hash.update(variant.as_str().as_bytes());
    hash.update([0]);
    hash.update(body_name.as_bytes());
    hash.update([0]);
    hash.update(serde_json::to_vec(&document).unwrap_or_default());
    let etag = format!("\"{}\"", hex::encode(hash.finalize()));
    let what = match (variant, document.kind) {
        (InvitationVariant::PublicNotice, InvitationKind::Invitation) => {
            "Bekanntmachung".to_owned()
        }
        (InvitationVariant::PublicNotice, InvitationKind::Supplement) => {
            format!(
                "Bekanntmachung Nachtrag {}",
                document.number.saturating_sub(1)
            )
        }
        (_, InvitationKind::Invitation) => "Einladung".to_owned(),
        (_, InvitationKind::Supplement) => {
            format!("Nachtrag {}", document.number.saturating_sub(1))
        }
    };
    let part = if variant == InvitationVariant::PublicPart {
        " (öffentlicher Teil)"
    } else {
        ""
    };
    let name: String = document
        .announced
        .meeting
        .chars()
        .map(|c| if matches!(c, '/' | '\\') { '-' } else { c })
        .collect();
    InvitationRendering {
        file_name: format!("{what} {name}{part}.pdf"),
        etag,
        input: InvitationPdf {
            document,
            body_name,
            variant,
        },
    }
}
