//! Plenum's printable documents, typeset with [Typst](https://typst.app) used as a library and
//! written as PDF/A-2b (the archival PDF German public records are kept as).
//!
//! Four documents:
//! - [`minutes_pdf`]: one part of a meeting's minutes (Niederschrift) with letterhead, table of
//!   contents, attendance, quorum, each item's decision with its vote result and named list
//!   (grouped by fraction), conflicts of interest, the clerk's notes, and a signature block;
//! - [`decision_extract_pdf`]: one item's decision extract (Beschlussauszug), what the
//!   administration forwards to the departments;
//! - [`invitation_pdf`]: a meeting's invitation (Einladung) or supplement (Nachtrag), in full,
//!   without its non-public part, or as the public notice (öffentliche Bekanntmachung);
//! - [`simple_pdf`]: a title and paragraphs (the demo council's files);
//! - [`meeting_bundle_pdf`]: a member's Sitzungsmappe of a meeting (cover and agenda, each
//!   item's papers and files bound in, the member's name on non-public pages) — a plain PDF, as
//!   Typst does not embed PDF pages in PDF/A.
//!
//! Fonts are embedded from `typst-assets` (Libertinus Serif, DejaVu Sans Mono): nothing depends
//! on the system's fonts. Text is set in German (`lang: "de"`), so paragraphs are justified with
//! German hyphenation. User text (titles, names, notes) reaches the template as JSON data, never
//! as markup: a title like `#panic()` prints as it is. Rendering is CPU-bound and synchronous;
//! call it from a blocking thread in async code. Equal input gives equal bytes.

mod bundle;
mod engine;
mod format;
mod markdown;
pub mod sample;

use std::collections::HashMap;

pub use bundle::{BundleCover, BundleFile, BundleItem, MeetingBundle, meeting_bundle_pdf};

use chrono::{DateTime, Utc};
use plenum_domain::{
    AnnouncedItem, AttendanceStatus, InvitationDocument, InvitationKind, ItemDecision,
    MinutesDraft, MinutesPart, PersonId, QuorumStanding, VoteRecord, german_date_time,
};
use serde_json::{Value, json};

const COMMON: &str = include_str!("../templates/common.typ");
const VOTE: &str = include_str!("../templates/vote.typ");
const MINUTES: &str = include_str!("../templates/minutes.typ");
const EXTRACT: &str = include_str!("../templates/extract.typ");
const SIMPLE: &str = include_str!("../templates/simple.typ");
const INVITATION: &str = include_str!("../templates/invitation.typ");

/// Why a document could not be rendered. Any of these is a bug in Plenum (the templates are
/// fixed and the data is plain text), never the user's input.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The data could not be serialised for the template.
    #[error("document data: {0}")]
    Data(String),
    /// Typst failed to typeset the document.
    #[error("typesetting: {0}")]
    Typeset(String),
    /// The PDF/A export failed.
    #[error("PDF export: {0}")]
    Pdf(String),
}

/// One part of a meeting's minutes, ready to print.
#[derive(Debug, Clone)]
pub struct MinutesDocument {
    /// The draft of one part; which part (public or non-public) is `minutes.part`, and only
    /// that part's items are in it.
    pub minutes: MinutesDraft,
    /// The body's name for the letterhead (e.g. "Stadt Musterstadt").
    pub body_name: String,
    /// The version of the minutes (printed as "Fassung N"), if they have versions.
    pub version: Option<u32>,
    /// Prints a visible "ENTWURF" marker on every page (minutes not yet signed).
    pub draft: bool,
    /// The signatures, printed in a signature block at the end in this order. Empty for none.
    pub signatures: Vec<SignatureLine>,
}

/// One signature under the minutes (e.g. the chair's and the clerk's).
///
/// Stable public API: the signing workflow fills it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureLine {
    /// Who signed, as printed ("Anna Vogel").
    pub name: String,
    /// Their role in the meeting, as printed ("Vorsitzende", "Schriftführer").
    pub role_label: String,
    /// When they signed (printed in German time).
    pub signed_at: DateTime<Utc>,
    /// The head of the hash chain the signature covers (printed in full, monospace).
    pub chain_head: String,
}

/// One agenda item's decision extract (Beschlussauszug).
#[derive(Debug, Clone)]
pub struct DecisionExtract {
    /// The body's name for the letterhead.
    pub body_name: String,
    /// The organization that met (Gremium).
    pub organization: String,
    pub meeting_name: String,
    /// When the meeting took place (its start).
    pub meeting_date: DateTime<Utc>,
    pub location: Option<String>,
    /// Whether the item was dealt with in public; a non-public extract is marked as such.
    pub public: bool,
    pub item_number: String,
    pub item_title: String,
    /// The paper's reference (Drucksache), if the item has one.
    pub paper_reference: Option<String>,
    /// The decision's text (Markdown).
    pub decision_text: Option<String>,
    /// The recorded decision with its vote result; none while none is recorded.
    pub decision: Option<ItemDecision>,
    /// Each member's fraction, to group a named list (members without one are "fraktionslos").
    pub fractions: HashMap<PersonId, String>,
    /// Prints a visible "ENTWURF" marker (no decision recorded yet).
    pub draft: bool,
    /// A non-public decision announced on its own (Bekanntgabe), with the clerk's note (may be
    /// empty): the extract is for the public, not marked confidential, and says so.
    pub announced: Option<String>,
}

/// A plain document: a title and paragraphs of text.
#[derive(Debug, Clone)]
pub struct SimpleDocument {
    /// The body's name for the letterhead.
    pub body_name: String,
    pub title: String,
    /// Plain text paragraphs (no markup).
    pub paragraphs: Vec<String>,
    /// A line in every page's footer.
    pub footer: String,
    /// The document's date in its metadata.
    pub date: DateTime<Utc>,
}

fn template(parts: &[&str]) -> String {
    parts.join("\n")
}

fn part_adjective(part: MinutesPart) -> &'static str {
    match part {
        MinutesPart::Public => "öffentlicher Teil",
        MinutesPart::NonPublic => "nichtöffentlicher Teil",
    }
}

fn status_label(status: AttendanceStatus) -> &'static str {
    match status {
        AttendanceStatus::Present => "anwesend",
        AttendanceStatus::Remote => "zugeschaltet",
        AttendanceStatus::Absent => "abwesend",
        AttendanceStatus::Excused => "entschuldigt",
        AttendanceStatus::LeftEarly => "vorzeitig gegangen",
    }
}

fn standing_label(standing: QuorumStanding) -> &'static str {
    match standing {
        QuorumStanding::Waived => {
            "beschlussfähig ohne Rücksicht auf die Zahl (Wiederholungssitzung)"
        }
        QuorumStanding::Quorate => "beschlussfähig",
        QuorumStanding::Presumed => "gilt als beschlussfähig",
        QuorumStanding::Undeclared => "Beschlussfähigkeit nicht festgestellt",
        QuorumStanding::Doubted => "Beschlussfähigkeit angezweifelt",
        QuorumStanding::NotQuorate => "nicht beschlussfähig",
    }
}

/// "über die 2. Sitzung des Rates …" for a name that says what it is, else "über die Sitzung: …".
fn subtitle(meeting_name: &str) -> String {
    if meeting_name.contains("Sitzung") {
        format!("über die {meeting_name}")
    } else {
        format!("über die Sitzung: {meeting_name}")
    }
}

/// A vote result as the template prints it.
fn vote(v: &VoteRecord, fractions: &HashMap<PersonId, String>) -> Value {
    let election = v.kind == "election";
    let mut totals = Vec::new();
    if !election {
        totals.push(json!(["Ja", v.yes]));
    }
    totals.push(json!(["Nein", v.no]));
    totals.push(json!(["Enthaltung", v.abstain]));
    if v.invalid > 0 || v.kind == "secret" || election {
        totals.push(json!(["ungültig", v.invalid]));
    }
    let mut outcome = v
        .outcome
        .as_deref()
        .map(format::outcome)
        .unwrap_or_default();
    if let Some(elected) = &v.elected {
        outcome = format!("{outcome}: {elected}");
    }
    if v.by_lot {
        outcome.push_str(" (durch Los entschieden)");
    }
    let mut kind = format::poll_kind(&v.kind);
    if v.round > 1 {
        kind = format!("{kind}, {}. Wahlgang", v.round);
    }
    // The named list by fraction, fractions and names in alphabetical order.
    let mut groups: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for n in &v.named {
        let fraction = fractions
            .get(&n.person)
            .cloned()
            .unwrap_or_else(|| "fraktionslos".to_owned());
        let entry = (n.name.clone(), format::choice(&n.choice));
        match groups.iter_mut().find(|(f, _)| *f == fraction) {
            Some((_, votes)) => votes.push(entry),
            None => groups.push((fraction, vec![entry])),
        }
    }
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, votes) in &mut groups {
        votes.sort();
    }
    json!({
        "title": v.title,
        "kind": kind,
        "rule": format::rule(&v.rule),
        "eligible": v.eligible,
        "voted": v.voted,
        "totals": totals,
        "candidates": v.candidates.iter().map(|c| json!([c.name, c.votes])).collect::<Vec<_>>(),
        "outcome": outcome,
        "named": groups.iter().map(|(f, votes)| json!({"fraction": f, "votes": votes})).collect::<Vec<_>>(),
        "not_voted": v.not_voted.iter().map(|n| n.name.clone()).collect::<Vec<_>>(),
    })
}

fn decision_label(decision: &ItemDecision) -> String {
    match &decision.referred_to {
        Some(to) if !to.trim().is_empty() => format!("{} an {to}", decision.kind.label_de()),
        _ => decision.kind.label_de().to_owned(),
    }
}

/// The data of the minutes template.
fn minutes_data(doc: &MinutesDocument) -> Value {
    let d = &doc.minutes;
    let part = part_adjective(d.part);
    let fractions: HashMap<PersonId, String> = d
        .attendance
        .iter()
        .filter_map(|a| a.fraction.clone().map(|f| (a.person, f)))
        .collect();

    let mut facts = vec![
        json!(["Gremium", d.organization]),
        json!(["Datum", format::long_date(d.scheduled_start)]),
    ];
    if let Some(location) = &d.location {
        facts.push(json!(["Ort", location]));
    }
    if let Some(invited) = d.invited_at {
        facts.push(json!([
            "Einladung",
            format!("vom {}", format::long_date(invited))
        ]));
    }
    if let Some(days) = d.invitation_notice_days {
        let days = match days {
            1 => "ein Tag".to_owned(),
            n => format!("{n} Tage"),
        };
        facts.push(json!(["Ladungsfrist", days]));
    }
    if let Some(reason) = &d.invitation_late_reason {
        facts.push(json!(["Verkürzte Ladungsfrist", reason]));
    }
    facts.push(json!([
        "Beginn",
        d.started_at.map_or_else(
            || format!("geplant {}", format::time(d.scheduled_start)),
            format::time
        )
    ]));
    facts.push(json!([
        "Ende",
        d.ended_at.map_or_else(|| "–".to_owned(), format::time)
    ]));
    if !d.breaks.is_empty() {
        let breaks: Vec<String> = d
            .breaks
            .iter()
            .map(|b| match b.to {
                Some(to) => format!(
                    "{} bis {}",
                    format::time(b.from).trim_end_matches(" Uhr"),
                    format::time(to)
                ),
                None => format!("ab {}", format::time(b.from)),
            })
            .collect();
        facts.push(json!(["Unterbrechungen", breaks.join("; ")]));
    }

    let attendance: Vec<Value> = d
        .attendance
        .iter()
        .map(|a| {
            let status = if a.changes.is_empty() {
                status_label(a.status).to_owned()
            } else {
                a.changes
                    .iter()
                    .map(|(s, at)| format!("{} {}", status_label(*s), format::time(*at)))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let mut role = a.role.german().to_owned();
            if !a.voting_right {
                role.push_str(" (ohne Stimmrecht)");
            }
            json!({
                "name": a.name,
                "role": role,
                "fraction": a.fraction.clone().unwrap_or_default(),
                "status": status,
            })
        })
        .collect();

    let quorum: Vec<String> = d
        .quorum
        .iter()
        .map(|q| {
            let count = format!(
                "{} von {} stimmberechtigten Mitgliedern anwesend, erforderlich {}",
                q.count.present_voting, q.count.statutory, q.count.required
            );
            let when = format::time(q.at);
            match q.kind {
                "declared" => {
                    let what = if q.quorate == Some(true) {
                        "stellt die Beschlussfähigkeit fest"
                    } else {
                        "stellt fest, dass das Gremium nicht beschlussfähig ist"
                    };
                    format!("{when}: Der Vorsitz {what} ({count}).")
                }
                "doubted" => format!(
                    "{when}: {} bezweifelt die Beschlussfähigkeit ({count}).",
                    q.person.as_deref().unwrap_or("Ein Mitglied")
                ),
                _ => format!(
                    "{when}: {} ({count}).",
                    q.standing.map_or("Anwesenheit geändert", standing_label)
                ),
            }
        })
        .collect();

    let items: Vec<Value> = d
        .items
        .iter()
        .map(|i| {
            json!({
                "number": i.number,
                "title": i.title,
                "decision_text": i.decision_text.as_deref().map(markdown::blocks).unwrap_or_default(),
                "decision": i.decision.as_ref().map(decision_label).unwrap_or_default(),
                "votes": i.polls.iter().map(|v| vote(v, &fractions)).collect::<Vec<_>>(),
                "conflicts": i.conflicts.iter().map(|c| match c.at {
                    Some(at) => format!("{} ({})", c.name, format::time(at)),
                    None => c.name.clone(),
                }).collect::<Vec<_>>(),
                "note": i.note.as_ref().map(|n| markdown::blocks(&n.text)).unwrap_or_default(),
            })
        })
        .collect();

    let version = doc
        .version
        .map(|v| format!("Fassung {v}"))
        .unwrap_or_default();
    let mut running_head = format!("Niederschrift · {} · {part}", d.meeting_name);
    if doc.draft {
        running_head.push_str(" · ENTWURF");
    }
    json!({
        "title": format!("Niederschrift {} ({part})", d.meeting_name),
        "body": doc.body_name,
        "draft": doc.draft,
        "running_head": running_head,
        "letterhead_right": d.organization,
        "footer": format!("Niederschrift vom {}", format::short_date(d.scheduled_start)),
        "subtitle": subtitle(&d.meeting_name),
        "part_label": format!("– {part} –"),
        "version": version,
        "facts": facts,
        "attendance": attendance,
        "quorum": quorum,
        "items": items,
        "signatures": doc.signatures.iter().map(|s| json!({
            "name": s.name,
            "role": s.role_label,
            "signed_at": format::date_time(s.signed_at),
            "chain_head": s.chain_head,
        })).collect::<Vec<_>>(),
    })
}

/// Renders one part of a meeting's minutes as PDF/A-2b: letterhead of the body, title
/// "Niederschrift über die … Sitzung …", "Seite X von Y" on every page, a table of contents,
/// attendance, quorum statements, per item its decision text, decision, vote results (totals,
/// rule, outcome, candidates, named list grouped by fraction), conflicts of interest and the
/// clerk's note, then the signature block.
pub fn minutes_pdf(doc: &MinutesDocument) -> Result<Vec<u8>, RenderError> {
    let d = &doc.minutes;
    let date = d.ended_at.or(d.started_at).unwrap_or(d.scheduled_start);
    let ident = format!(
        "plenum:minutes:{}:{}:{}:{}",
        d.meeting_name,
        d.scheduled_start.timestamp(),
        d.part.as_str(),
        doc.version.unwrap_or(0)
    );
    engine::render(
        &template(&[COMMON, VOTE, MINUTES]),
        &minutes_data(doc),
        &ident,
        date,
    )
}

fn extract_data(doc: &DecisionExtract) -> Value {
    let mut facts = vec![
        json!(["Gremium", doc.organization]),
        json!(["Sitzung", doc.meeting_name]),
        json!(["Datum", format::long_date(doc.meeting_date)]),
    ];
    if let Some(location) = &doc.location {
        facts.push(json!(["Ort", location]));
    }
    let item = format!("{} {}", doc.item_number, doc.item_title)
        .trim()
        .to_owned();
    facts.push(json!(["Tagesordnungspunkt", item]));
    if let Some(reference) = &doc.paper_reference {
        facts.push(json!(["Drucksache", reference]));
    }
    facts.push(json!([
        "Sitzungsteil",
        match (doc.public, &doc.announced) {
            (true, _) => "öffentlich",
            (false, None) => "nichtöffentlich",
            (false, Some(_)) => "nichtöffentlich; Beschluss bekanntgegeben",
        }
    ]));
    if let Some(note) = doc.announced.as_deref().filter(|n| !n.trim().is_empty()) {
        facts.push(json!(["Bekanntgabe", note]));
    }
    let mut running_head = format!("Beschlussauszug · {item}");
    if doc.draft {
        running_head.push_str(" · ENTWURF");
    }
    json!({
        "title": format!("Beschlussauszug {item}"),
        "body": doc.body_name,
        "draft": doc.draft,
        "running_head": running_head,
        "letterhead_right": doc.organization,
        "footer": format!("Beschlussauszug aus der Sitzung vom {}", format::short_date(doc.meeting_date)),
        "confidential": !doc.public && doc.announced.is_none(),
        "facts": facts,
        "decision_text": doc.decision_text.as_deref().map(markdown::blocks).unwrap_or_default(),
        "decision": doc.decision.as_ref().map(decision_label).unwrap_or_default(),
        "votes": doc.decision.as_ref().and_then(|d| d.vote.as_ref()).map(|v| vec![vote(v, &doc.fractions)]).unwrap_or_default(),
    })
}

/// Renders one item's decision extract (Beschlussauszug) as PDF/A-2b: the meeting, its date,
/// the item's number and title, the paper's reference, the decision's kind and text, and the
/// vote result with the majority rule and the named list, if any.
pub fn decision_extract_pdf(doc: &DecisionExtract) -> Result<Vec<u8>, RenderError> {
    let ident = format!(
        "plenum:extract:{}:{}:{}",
        doc.meeting_name,
        doc.meeting_date.timestamp(),
        doc.item_number
    );
    engine::render(
        &template(&[COMMON, VOTE, EXTRACT]),
        &extract_data(doc),
        &ident,
        doc.meeting_date,
    )
}

/// Which version of an invitation or supplement to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InvitationVariant {
    /// Everything it announces, the non-public part included (members entitled to it).
    Full,
    /// Without the non-public part, for members not entitled to it; titled like the full one.
    PublicPart,
    /// The public notice (öffentliche Bekanntmachung): without the non-public part, titled so.
    PublicNotice,
}

impl InvitationVariant {
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationVariant::Full => "full",
            InvitationVariant::PublicPart => "public_part",
            InvitationVariant::PublicNotice => "public_notice",
        }
    }
}

/// An issued invitation or supplement, ready to print.
#[derive(Debug, Clone)]
pub struct InvitationPdf {
    /// The frozen document as issued (with its non-public part: the variants without it are
    /// cut by [`invitation_pdf`] itself with [`InvitationDocument::public_part`]).
    pub document: InvitationDocument,
    /// The body's name for the letterhead (e.g. "Stadt Musterstadt").
    pub body_name: String,
    pub variant: InvitationVariant,
}

/// "Einladung", "Nachtrag Nr. 1 zur Einladung": supplements are counted from 1 (document
/// number 2 is the first supplement), as in the notifications and the app.
fn invitation_title(doc: &InvitationDocument) -> String {
    match doc.kind {
        InvitationKind::Invitation => "Einladung".to_owned(),
        InvitationKind::Supplement => format!("Nachtrag Nr. {} zur Einladung", supplement_no(doc)),
    }
}

fn supplement_no(doc: &InvitationDocument) -> u32 {
    doc.number.saturating_sub(1)
}

/// An announced item as a table row: number, title, paper reference.
fn announced_row(item: &AnnouncedItem) -> Value {
    json!({
        "number": item.number,
        "title": item.title,
        "paper": item.paper_reference.clone().unwrap_or_default(),
    })
}

/// The data of the invitation template.
fn invitation_data(input: &InvitationPdf) -> Value {
    let full = input.variant == InvitationVariant::Full;
    let doc = if full {
        input.document.clone()
    } else {
        input.document.public_part()
    };
    let a = &doc.announced;
    let title = invitation_title(&doc);
    let (heading, kicker) = match input.variant {
        InvitationVariant::PublicNotice => (
            "Öffentliche Bekanntmachung".to_owned(),
            match doc.kind {
                InvitationKind::Invitation => String::new(),
                InvitationKind::Supplement => format!("Nachtrag Nr. {}", supplement_no(&doc)),
            },
        ),
        _ => (title.clone(), String::new()),
    };

    let mut facts = vec![json!(["Gremium", a.organization])];
    let mut when = german_date_time(a.start);
    if let Some(end) = a.end {
        when = format!("{when} bis voraussichtlich {}", format::time(end));
    }
    facts.push(json!(["Zeit", when]));
    facts.push(json!([
        "Ort",
        a.location
            .clone()
            .unwrap_or_else(|| "wird noch bekanntgegeben".to_owned())
    ]));
    facts.push(json!(["Ausgegeben am", german_date_time(doc.issued_at)]));

    // The notice period: kept, or shortened (with the reason), or missed (a supplement).
    let period = match doc.notice_days() {
        1 => "von einem Tag".to_owned(),
        n => format!("von {n} Tagen"),
    };
    let deadline = german_date_time(doc.deadline);
    let notice = if doc.issued_at <= doc.deadline {
        format!("Die Ladungsfrist {period} (bis {deadline}) ist gewahrt.")
    } else if doc.late_reason.is_some() {
        format!("Die Ladungsfrist {period} (bis {deadline}) ist verkürzt.")
    } else {
        format!("Ausgegeben nach Ablauf der Ladungsfrist {period} (bis {deadline}).")
    };

    let (public, non_public): (Vec<&AnnouncedItem>, Vec<&AnnouncedItem>) =
        a.items.iter().partition(|i| i.public);
    let changes = doc.changes.as_ref().map(|c| {
        let mut other = Vec::new();
        if let Some(start) = c.start {
            other.push(format!("Neuer Beginn: {}", german_date_time(start)));
        }
        match &c.location {
            Some(Some(place)) => other.push(format!("Neuer Ort: {place}")),
            Some(None) => other.push("Der Sitzungsort wird noch bekanntgegeben.".to_owned()),
            None => {}
        }
        json!({
            "added": c.added.iter().map(announced_row).collect::<Vec<_>>(),
            "moved": c.moved.iter().map(|m| json!({
                "number": m.item.number,
                "previous": m.previous_number,
                "title": m.item.title,
                "paper": m.item.paper_reference.clone().unwrap_or_default(),
            })).collect::<Vec<_>>(),
            "withdrawn": c.withdrawn.iter().map(announced_row).collect::<Vec<_>>(),
            "changed": c.changed.iter().map(announced_row).collect::<Vec<_>>(),
            "other": other,
        })
    });
    let scope = match input.variant {
        InvitationVariant::Full if !non_public.is_empty() => {
            "Enthält den nichtöffentlichen Teil – vertraulich zu behandeln."
        }
        InvitationVariant::Full => "",
        InvitationVariant::PublicPart => "Ohne den nichtöffentlichen Teil.",
        InvitationVariant::PublicNotice => "",
    };
    let short = match doc.kind {
        InvitationKind::Invitation => "Einladung".to_owned(),
        InvitationKind::Supplement => format!("Nachtrag Nr. {}", supplement_no(&doc)),
    };
    let footer = match input.variant {
        InvitationVariant::PublicNotice => format!(
            "Öffentliche Bekanntmachung ({short}) vom {}",
            format::short_date(doc.issued_at)
        ),
        _ => format!("{short} vom {}", format::short_date(doc.issued_at)),
    };
    json!({
        "title": format!("{heading}: {}", a.meeting),
        "body": input.body_name,
        "draft": false,
        "running_head": format!("{heading} · {}", a.meeting),
        "letterhead_right": a.organization,
        "footer": footer,
        "heading": heading,
        "kicker": kicker,
        "meeting": a.meeting,
        "scope": scope,
        "facts": facts,
        "notice": notice,
        "late_reason": doc.late_reason.as_ref().map(|r| r.as_str().to_owned()).unwrap_or_default(),
        "changes": changes,
        "public": public.into_iter().map(announced_row).collect::<Vec<_>>(),
        "non_public": non_public.into_iter().map(announced_row).collect::<Vec<_>>(),
        "show_non_public": full,
    })
}

/// Renders an invitation or supplement as PDF/A-2b: the body's letterhead, the title
/// ("Einladung", "Nachtrag Nr. N zur Einladung" or "Öffentliche Bekanntmachung"), the meeting,
/// its time and place in German time, the notice period (and the reason it was shortened), for a
/// supplement its changes (added, moved, withdrawn, changed items, a new start or place), and
/// the agenda in its public and non-public parts with numbers and paper references. The
/// variants other than [`InvitationVariant::Full`] never contain anything non-public: they are
/// cut here with [`InvitationDocument::public_part`].
pub fn invitation_pdf(input: &InvitationPdf) -> Result<Vec<u8>, RenderError> {
    let doc = &input.document;
    let ident = format!(
        "plenum:invitation:{}:{}:{}:{}",
        doc.announced.meeting,
        doc.announced.start.timestamp(),
        doc.number,
        input.variant.as_str()
    );
    engine::render(
        &template(&[COMMON, INVITATION]),
        &invitation_data(input),
        &ident,
        doc.issued_at,
    )
}

/// Renders a title and plain paragraphs as PDF/A-2b, with the body's letterhead and page
/// numbers.
pub fn simple_pdf(doc: &SimpleDocument) -> Result<Vec<u8>, RenderError> {
    let data = json!({
        "title": doc.title,
        "body": doc.body_name,
        "draft": false,
        "running_head": doc.title,
        "letterhead_right": "",
        "footer": doc.footer,
        "paragraphs": doc.paragraphs,
    });
    let ident = format!("plenum:simple:{}:{}", doc.body_name, doc.title);
    engine::render(&template(&[COMMON, SIMPLE]), &data, &ident, doc.date)
}
