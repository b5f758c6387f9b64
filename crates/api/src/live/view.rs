//! What a viewer may see of the live state: the public (room display, livestream) sees public
//! items only; members see everything their organization's meeting holds. Nobody ever sees a
//! choice in a secret poll or an election, nor interim tallies unless the chair shows them.

use plenum_domain::{LiveState, PersonId, Poll, PollKind, PollState};
use serde_json::{Value, json};

/// Who is looking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// Anonymous: public items only.
    Public,
    /// Entitled to the non-public part; `person` sees their own votes.
    Entitled {
        person: Option<PersonId>,
        chair: bool,
    },
}

impl Viewer {
    pub fn entitled(&self) -> bool {
        matches!(self, Viewer::Entitled { .. })
    }
}

fn name_of(state: &LiveState, person: PersonId) -> String {
    state
        .member(person)
        .map(|m| m.name.clone())
        .unwrap_or_else(|| "?".into())
}

/// The kinds of poll the meeting's rule set allows a chair to create and open.
fn poll_kinds(state: &LiveState, remote_participation: bool) -> Vec<&'static str> {
    let rules = state.roster.rule_set.rules();
    PollKind::ALL
        .iter()
        .filter(|kind| {
            rules
                .check_poll_allowed(**kind, remote_participation)
                .is_ok()
        })
        .map(PollKind::as_str)
        .collect()
}

fn poll_view(state: &LiveState, poll: &Poll, viewer: Viewer) -> Value {
    let (me, chair) = match viewer {
        Viewer::Entitled { person, chair } => (person, chair),
        Viewer::Public => (None, false),
    };
    let not_voted: Vec<Value> = if chair && poll.state == PollState::Open {
        poll.eligible
            .iter()
            .filter(|p| !poll.voted.contains(p))
            .map(|p| json!({"person": p, "name": name_of(state, *p)}))
            .collect()
    } else {
        Vec::new()
    };
    let interim = if poll.state == PollState::Open {
        poll.interim_tally(None)
    } else {
        None
    };
    // Why the viewer may not vote (arrived late, conflict, advisory, no voting right).
    let my_ineligibility = me.and_then(|p| state.ineligibility(poll, p));
    // The chair sees who is in the room and may not vote, and why.
    let ineligible: Vec<Value> = if chair {
        state
            .ineligible_present(poll)
            .into_iter()
            .map(|(p, reason)| json!({"person": p, "name": name_of(state, p), "reason": reason}))
            .collect()
    } else {
        Vec::new()
    };
    // The reasons as fixed at opening — all for the chair, the viewer's own for a member — so a
    // client can keep `ineligible` and `my_ineligibility` current as attendance changes.
    let ineligible_at_open: Vec<Value> = if poll.state == PollState::Open {
        poll.ineligible
            .iter()
            .filter(|(p, _)| chair || me == Some(**p))
            .map(|(p, reason)| json!([p, reason]))
            .collect()
    } else {
        Vec::new()
    };
    let my_choice = me.and_then(|p| {
        if poll.is_secret() {
            None
        } else {
            poll.choices.get(&p).copied()
        }
    });
    json!({
        "id": poll.id,
        "item": poll.item,
        "title": poll.title,
        "kind": poll.kind,
        "rule": poll.rule,
        "options": poll.options,
        "allow_change": poll.allow_change,
        "state": poll.state,
        "eligible_count": poll.eligible.len(),
        "voted_count": poll.voted.len(),
        // Who has voted: the chair's (members learn the count and `i_voted`; see
        // `Event::for_member`).
        "voted": if chair { json!(poll.voted) } else { Value::Null },
        "not_voted": not_voted,
        "i_am_eligible": me.is_some_and(|p| poll.eligible.contains(&p)),
        "my_ineligibility": my_ineligibility,
        "ineligible": ineligible,
        "ineligible_at_open": ineligible_at_open,
        "i_voted": me.is_some_and(|p| poll.voted.contains(&p)),
        "my_choice": my_choice,
        // The member asked that their vote be recorded in the minutes (open polls).
        "my_vote_recorded": me.is_some_and(|p| poll.vote_records.contains(&p)),
        "interim": interim,
        "result": poll.result,
        // Closed named polls: who voted how and who did not, grouped by fraction.
        "roll_call": plenum_domain::roll_call(poll, state),
        "round": poll.round,
        "runoff_of": poll.runoff_of,
        "corrects": poll.corrects,
        "opened_at": poll.opened_at,
        "closed_at": poll.closed_at,
        "below_quorum": poll.below_quorum,
        "cancel_reason": poll.cancel_reason,
        "motion": poll.motion,
        "amendment": poll.amendment,
        // Fixed at opening: `[substitute, member]` for each substitute holding a member's vote.
        "stand_ins": poll.stand_ins.iter().map(|(s, m)| json!([s, m])).collect::<Vec<_>>(),
    })
}

/// The snapshot message for a viewer.
pub fn snapshot(state: &LiveState, seq: u64, viewer: Viewer) -> Value {
    let mut fields = state_fields(state, viewer);
    fields.insert("attendance".into(), Value::Array(attendance(state)));
    json!({"type": "snapshot", "seq": seq, "state": fields})
}

/// The attendance list of a snapshot: every member of the roster with their attendance. The
/// same for every viewer, so that a node serializes it once per state (see
/// [`snapshot_frame`]), not once per connection: at a convention it lists thousands.
pub fn attendance(state: &LiveState) -> Vec<Value> {
    state
        .roster
        .members
        .iter()
        .map(|m| {
            let entry = state.attendance.get(&m.person);
            let status = entry.map(|a| a.status);
            json!({
                "arrived_at": entry.and_then(|a| a.arrived),
                "left_at": entry.and_then(|a| a.left),
                // Marks: arrived more than five minutes after the opening; left before the close.
                "late": state.arrived_late(m.person),
                "left_early": status == Some(plenum_domain::AttendanceStatus::LeftEarly),
                "person": m.person,
                "name": m.name,
                "role": m.role,
                "voting_right": m.voting_right,
                "fraction": m.fraction,
                "status": status,
                // Stand-ins (Vertretung): whom this substitute stands in for, or who stands in
                // for this member.
                "stands_in_for": state.stand_in_by(m.person).map(|s| s.member),
                "represented_by": state.stand_in_for(m.person).map(|s| s.substitute),
            })
        })
        .collect()
}

/// [`snapshot`] as the text of a live message, with the attendance list already serialized
/// ([`attendance`] of the same state).
pub fn snapshot_frame(
    state: &LiveState,
    seq: u64,
    viewer: Viewer,
    attendance: &serde_json::value::RawValue,
) -> String {
    #[derive(serde::Serialize)]
    struct Frame<'a> {
        #[serde(rename = "type")]
        kind: &'static str,
        seq: u64,
        state: StateWith<'a>,
    }
    #[derive(serde::Serialize)]
    struct StateWith<'a> {
        #[serde(flatten)]
        fields: serde_json::Map<String, Value>,
        attendance: &'a serde_json::value::RawValue,
    }
    let frame = Frame {
        kind: "snapshot",
        seq,
        state: StateWith {
            fields: state_fields(state, viewer),
            attendance,
        },
    };
    serde_json::to_string(&frame).unwrap_or_else(|_| snapshot(state, seq, viewer).to_string())
}

/// Everything of a snapshot's `state` except the attendance list.
fn state_fields(state: &LiveState, viewer: Viewer) -> serde_json::Map<String, Value> {
    let entitled = viewer.entitled();
    let visible_item = |id: Option<plenum_domain::AgendaItemId>| {
        entitled || id.is_none_or(|id| state.item(id).is_some_and(|i| i.public))
    };
    let agenda: Vec<Value> = state
        .agenda
        .iter()
        .filter(|i| entitled || i.public)
        .map(|i| json!({"id": i.id, "number": i.number, "title": i.title, "public": i.public}))
        .collect();
    let current_item = if visible_item(state.current_item) {
        state.current_item
    } else {
        None
    };
    let non_public_part = state.current_item.is_some() && current_item.is_none();
    let conflicts: Vec<Value> = state
        .conflicts
        .iter()
        .filter(|(item, _)| visible_item(Some(*item)))
        .map(|(item, person)| json!({"item": item, "person": person, "name": name_of(state, *person)}))
        .collect();
    let speaker = |e: &plenum_domain::SpeakerEntry| {
        json!({
            "id": e.id,
            "person": e.person,
            "name": name_of(state, e.person),
            "point_of_order": e.point_of_order,
            "requested_at": e.requested_at,
            "started_at": e.started_at,
        })
    };
    let speakers: Vec<Value> = state
        .speakers
        .iter()
        .filter(|e| visible_item(e.item))
        .map(speaker)
        .collect();
    let current_speaker = state
        .current_speaker
        .as_ref()
        .filter(|e| visible_item(e.item))
        .map(speaker);
    let polls: Vec<Value> = state
        .polls
        .iter()
        .filter(|p| visible_item(p.item))
        .map(|p| poll_view(state, p, viewer))
        .collect();
    let display_poll = state
        .display_poll
        .filter(|id| state.poll(*id).is_some_and(|p| visible_item(p.item)));
    let (me, chair) = match viewer {
        Viewer::Entitled { person, chair } => (person, chair),
        Viewer::Public => (None, false),
    };
    let fields = json!({
            "meeting": state.meeting,
            // Who is looking: lets a client offer the chair console only to those who may run it.
            "viewer": {"person": me, "chair": chair, "entitled": entitled},
            "status": state.status,
            "started_at": state.started_at,
            "current_item": current_item,
            "non_public_part": non_public_part,
            "agenda": agenda,
            "quorum": state.quorum(),
            "statutory_seats": state.roster.statutory_seats,
            "rule_set": state.roster.rule_set,
            "conflicts": conflicts,
            "stand_ins": state.stand_ins.iter().map(|s| json!({
                "member": s.member,
                "member_name": name_of(state, s.member),
                "substitute": s.substitute,
                "substitute_name": name_of(state, s.substitute),
                "since": s.since,
            })).collect::<Vec<_>>(),
            "speakers": speakers,
            "current_speaker": current_speaker,
            "polls": polls,
            "display_poll": display_poll,
            "remote_participation": state.anyone_remote,
            // The poll kinds the rule set allows now, and once anyone took part remotely (a
            // client switches lists when a member checks in online).
            "poll_kinds": poll_kinds(state, state.anyone_remote),
            "poll_kinds_with_remote": poll_kinds(state, true),
            "quorum_standing": state.quorum_standing(),
            "quorum_law": plenum_domain::QuorumLaw::of(state.roster.rule_set),
            "quorum_declared": state.quorum_record.declared,
            "quorum_doubts": state.quorum_record.doubts.iter().map(|d| json!({
                "person": d.person,
                "name": name_of(state, d.person),
                "at": d.at,
                "count": d.count,
            })).collect::<Vec<_>>(),
            "settings": state.settings,
            "amendments": state.amendments.iter().filter(|a| visible_item(Some(a.item))).map(|a| json!({
                "id": a.id,
                "item": a.item,
                "kind": a.kind,
                "title": a.title,
                "text": a.text,
                "filed_by": a.filed_by,
                "filed_by_name": name_of(state, a.filed_by),
                "on_behalf_of": a.on_behalf_of,
                "filed_at": a.filed_at,
                "withdrawn": a.withdrawn,
            })).collect::<Vec<_>>(),
            // Per item with amendments: the voting order and, if the chair set it, the reason.
            "amendment_order": state.agenda.iter()
                .filter(|i| visible_item(Some(i.id)))
                .filter(|i| state.amendments.iter().any(|a| a.item == i.id))
                .map(|i| json!({
                    "item": i.id,
                    "order": state.amendment_voting_order(i.id),
                    "reason": state.amendment_orders.get(&i.id).map(|o| o.reason.clone()),
                })).collect::<Vec<_>>(),
            "scheduled": state.scheduled,
            // The server's clock, so clients can show elapsed speaking time from event times.
            "server_time": chrono::Utc::now(),
    });
    match fields {
        Value::Object(fields) => fields,
        _ => serde_json::Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plenum_domain::{
        AgendaEntry, AgendaItemId, MeetingId, MembershipRole, OrganizationId, OrganizationKind,
        Roster, RosterMember, RuleSet,
    };

    fn state() -> LiveState {
        let members = (0..3)
            .map(|i| RosterMember {
                person: PersonId::new(),
                name: format!("Mitglied \"{i}\" Ä"),
                role: if i == 0 {
                    MembershipRole::Chair
                } else {
                    MembershipRole::Member
                },
                voting_right: true,
                fraction: (i == 1).then(|| "Grüne".to_owned()),
            })
            .collect();
        LiveState::new(
            MeetingId::new(),
            Roster {
                organization: OrganizationId::new(),
                organization_kind: OrganizationKind::Council,
                statutory_seats: 3,
                rule_set: RuleSet::NordrheinWestfalen,
                members,
            },
            vec![
                AgendaEntry {
                    id: AgendaItemId::new(),
                    number: "Ö 1".into(),
                    title: "Haushalt".into(),
                    public: true,
                },
                AgendaEntry {
                    id: AgendaItemId::new(),
                    number: "N 1".into(),
                    title: "Grundstück".into(),
                    public: false,
                },
            ],
        )
    }

    /// The frame with the attendance list serialized once says exactly what the snapshot says,
    /// for every kind of viewer.
    #[test]
    fn the_snapshot_frame_equals_the_snapshot() {
        let state = state();
        let attendance = serde_json::to_string(&attendance(&state)).unwrap();
        let attendance = serde_json::value::RawValue::from_string(attendance).unwrap();
        let person = state.roster.members[1].person;
        for viewer in [
            Viewer::Public,
            Viewer::Entitled {
                person: Some(person),
                chair: false,
            },
            Viewer::Entitled {
                person: None,
                chair: true,
            },
        ] {
            let mut framed: Value =
                serde_json::from_str(&snapshot_frame(&state, 7, viewer, &attendance)).unwrap();
            let mut plain = snapshot(&state, 7, viewer);
            // The server's clock moves between the two.
            framed["state"]["server_time"] = Value::Null;
            plain["state"]["server_time"] = Value::Null;
            assert_eq!(framed, plain, "{viewer:?}");
            assert_eq!(framed["state"]["attendance"].as_array().unwrap().len(), 3);
        }
        let public = snapshot(&state, 7, Viewer::Public);
        assert_eq!(public["state"]["agenda"].as_array().unwrap().len(), 1);
    }
}
