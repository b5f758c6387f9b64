//! Amendments (Änderungsanträge) to an agenda item's proposal and the order they are voted in.
//!
//! Standing orders put the most far-reaching motion first ("der weitestgehende Antrag"). Which
//! one that is stays the chair's judgement, so the default only follows the kind of change: an
//! amendment that *replaces* the proposal goes before one that *changes* it, and that before one
//! that only *adds* to it; within a kind, the order of filing. The chair may set another order
//! and must say why. Each amendment is voted on in its own poll (`amendment` on the poll); the
//! final vote on the proposal as amended comes last.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{AgendaItemId, AmendmentId, PersonId};

/// Longest amendment title and text.
pub const MAX_AMENDMENT_TITLE: usize = 200;
pub const MAX_AMENDMENT_TEXT: usize = 20_000;

/// How far an amendment reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AmendmentKind {
    /// Replaces the proposal (ersetzender Antrag): the most far-reaching.
    Replace,
    /// Changes part of it (ändernder Antrag).
    Change,
    /// Adds to it (ergänzender Antrag).
    Add,
}

/// An amendment to an item's proposal, filed by a member (for their fraction, if they say so).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amendment {
    pub id: AmendmentId,
    pub item: AgendaItemId,
    pub filed_by: PersonId,
    /// The fraction the member files for, as they name it (optional).
    pub on_behalf_of: Option<String>,
    pub kind: AmendmentKind,
    pub title: String,
    pub text: String,
    pub filed_at: DateTime<Utc>,
    pub withdrawn: bool,
}

/// The chair's order for an item's amendments, with the reason given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmendmentOrder {
    pub order: Vec<AmendmentId>,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// Checks an amendment's title and text; returns them trimmed.
pub fn check_amendment(title: &str, text: &str) -> Result<(String, String), String> {
    let (title, text) = (title.trim(), text.trim());
    if title.is_empty() || title.chars().count() > MAX_AMENDMENT_TITLE {
        return Err(format!(
            "an amendment needs a title of 1 to {MAX_AMENDMENT_TITLE} characters"
        ));
    }
    if text.is_empty() || text.chars().count() > MAX_AMENDMENT_TEXT {
        return Err(format!(
            "an amendment needs a text of 1 to {MAX_AMENDMENT_TEXT} characters"
        ));
    }
    Ok((title.to_owned(), text.to_owned()))
}

/// The order in which the amendments of `item` that are not withdrawn are voted on: the chair's
/// order where set (amendments filed after it follow in the default order), else the default
/// (replace, change, add; each by filing).
pub fn voting_order(
    amendments: &[Amendment],
    orders: &BTreeMap<AgendaItemId, AmendmentOrder>,
    item: AgendaItemId,
) -> Vec<AmendmentId> {
    let mut open: Vec<&Amendment> = amendments
        .iter()
        .filter(|a| a.item == item && !a.withdrawn)
        .collect();
    open.sort_by_key(|a| (a.kind, a.filed_at, a.id));
    let mut result: Vec<AmendmentId> = Vec::new();
    if let Some(chosen) = orders.get(&item) {
        result.extend(
            chosen
                .order
                .iter()
                .filter(|id| open.iter().any(|a| a.id == **id)),
        );
    }
    for a in open {
        if !result.contains(&a.id) {
            result.push(a.id);
        }
    }
    result
}

/// Checks a new order from the chair: exactly the item's open amendments, each once, and a reason.
pub fn check_order(
    amendments: &[Amendment],
    item: AgendaItemId,
    order: &[AmendmentId],
    reason: Option<&str>,
) -> Result<(Vec<AmendmentId>, String), String> {
    let reason = crate::parse_reason(reason)
        .ok_or_else(|| "give a reason (1 to 500 characters) for the order".to_owned())?;
    let mut open: Vec<AmendmentId> = amendments
        .iter()
        .filter(|a| a.item == item && !a.withdrawn)
        .map(|a| a.id)
        .collect();
    let mut given = order.to_vec();
    open.sort();
    given.sort();
    if open != given {
        return Err("the order must name every open amendment of the item once".into());
    }
    Ok((order.to_vec(), reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amendment(item: AgendaItemId, kind: AmendmentKind, minute: i64) -> Amendment {
        Amendment {
            id: AmendmentId::new(),
            item,
            filed_by: PersonId::new(),
            on_behalf_of: None,
            kind,
            title: format!("{kind:?}"),
            text: "Text".into(),
            filed_at: DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::minutes(minute),
            withdrawn: false,
        }
    }

    #[test]
    fn the_most_far_reaching_goes_first_unless_the_chair_orders_otherwise() {
        let item = AgendaItemId::new();
        let add = amendment(item, AmendmentKind::Add, 1);
        let change_late = amendment(item, AmendmentKind::Change, 5);
        let replace = amendment(item, AmendmentKind::Replace, 9);
        let change_early = amendment(item, AmendmentKind::Change, 2);
        let mut withdrawn = amendment(item, AmendmentKind::Replace, 0);
        withdrawn.withdrawn = true;
        let elsewhere = amendment(AgendaItemId::new(), AmendmentKind::Replace, 0);
        let all = vec![
            add.clone(),
            change_late.clone(),
            replace.clone(),
            change_early.clone(),
            withdrawn.clone(),
            elsewhere,
        ];
        let mut orders = BTreeMap::new();
        assert_eq!(
            voting_order(&all, &orders, item),
            vec![replace.id, change_early.id, change_late.id, add.id]
        );
        // The chair's order, with a reason; one filed later follows in the default order.
        let chosen = vec![add.id, replace.id, change_late.id, change_early.id];
        assert!(check_order(&all, item, &chosen, None).is_err(), "a reason");
        assert!(
            check_order(&all, item, &chosen[..3], Some("x")).is_err(),
            "all"
        );
        assert!(
            check_order(
                &all,
                item,
                &[add.id, add.id, replace.id, change_late.id],
                Some("x")
            )
            .is_err(),
            "each once"
        );
        assert!(
            check_order(
                &all,
                item,
                &[
                    withdrawn.id,
                    add.id,
                    replace.id,
                    change_late.id,
                    change_early.id
                ],
                Some("x")
            )
            .is_err(),
            "no withdrawn ones"
        );
        let (order, reason) = check_order(&all, item, &chosen, Some(" Sachzusammenhang ")).unwrap();
        assert_eq!(reason, "Sachzusammenhang");
        orders.insert(
            item,
            AmendmentOrder {
                order,
                reason,
                at: Utc::now(),
            },
        );
        let mut more = all.clone();
        let later = amendment(item, AmendmentKind::Replace, 20);
        more.push(later.clone());
        assert_eq!(
            voting_order(&more, &orders, item),
            vec![
                add.id,
                replace.id,
                change_late.id,
                change_early.id,
                later.id
            ]
        );
    }

    #[test]
    fn amendments_need_a_title_and_a_text() {
        assert!(check_amendment(" ", "Text").is_err());
        assert!(check_amendment("Titel", "  ").is_err());
        assert!(check_amendment(&"x".repeat(201), "Text").is_err());
        assert_eq!(
            check_amendment(" Titel ", " Text ").unwrap(),
            ("Titel".to_owned(), "Text".to_owned())
        );
    }
}
