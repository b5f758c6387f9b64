//! Procedural motions (Geschäftsordnungsanträge): a member moves to end the debate, to adjourn or
//! to refer the matter to a committee; the council decides at once, before the matter itself. The
//! chair starts such a vote with one tap: an open vote, simple majority, on the current item.
//! The poll carries the motion's kind (`motion`), so the minutes can tell it from a vote on the
//! matter.

use serde::{Deserialize, Serialize};

use crate::{MajorityRule, PollKind};

/// The kinds of procedural motion the console offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProceduralMotion {
    /// Schluss der Debatte (Aussprache).
    EndOfDebate,
    /// Schluss der Rednerliste.
    EndOfSpeakersList,
    /// Vertagung.
    Adjournment,
    /// Verweisung an einen Ausschuss.
    ReferralToCommittee,
    /// Unterbrechung der Sitzung.
    Recess,
}

impl ProceduralMotion {
    pub const ALL: &'static [ProceduralMotion] = &[
        ProceduralMotion::EndOfDebate,
        ProceduralMotion::EndOfSpeakersList,
        ProceduralMotion::Adjournment,
        ProceduralMotion::ReferralToCommittee,
        ProceduralMotion::Recess,
    ];

    /// Procedural motions are decided in an open vote (or by show of hands, counted by the
    /// chair) by simple majority; anything else is refused with this message.
    pub fn check_poll(&self, kind: PollKind, rule: MajorityRule) -> Result<(), String> {
        if !matches!(kind, PollKind::Open | PollKind::Manual) {
            return Err(
                "a procedural motion is decided in an open vote or by show of hands".into(),
            );
        }
        if rule != MajorityRule::Simple {
            return Err("a procedural motion is decided by simple majority".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn procedural_motions_are_open_simple_majority_votes() {
        for motion in ProceduralMotion::ALL {
            for kind in PollKind::ALL {
                for rule in MajorityRule::ALL {
                    let allowed = matches!(kind, PollKind::Open | PollKind::Manual)
                        && *rule == MajorityRule::Simple;
                    assert_eq!(
                        motion.check_poll(*kind, *rule).is_ok(),
                        allowed,
                        "{motion:?} {kind} {rule}"
                    );
                }
            }
        }
        let names: Vec<String> = ProceduralMotion::ALL
            .iter()
            .map(|m| {
                serde_json::to_value(m)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            names,
            [
                "end_of_debate",
                "end_of_speakers_list",
                "adjournment",
                "referral_to_committee",
                "recess"
            ]
        );
    }
}
