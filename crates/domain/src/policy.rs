//! The access-control policy: one pure function, [`authorize`], that answers whether an
//! [`Actor`] may perform an [`Action`] on a [`Resource`].
//!
//! The policy does no I/O. The caller (the API layer) loads what the policy needs — the actor's
//! site role, whether the session passed the second factor, the memberships that are active
//! *today*, and the few facts about the resource listed in [`Resource`] — and maps the answer to
//! HTTP: [`AccessDecision::Forbidden`] to 403, [`AccessDecision::NotFound`] to 404.
//!
//! # Principles
//!
//! - **Outsiders learn nothing.** Whoever may not view a resource gets
//!   [`AccessDecision::NotFound`] for every action on it, exactly as if it did not exist.
//!   [`AccessDecision::Forbidden`] is only ever returned to someone who may view the resource
//!   (for a [`Resource::Ballot`]: who may view its poll), so a 403 never reveals anything.
//! - **Non-public material needs the second factor.** A session that has not passed TOTP is
//!   treated exactly like an anonymous citizen; its only extra power is
//!   [`Action::EnrolSecondFactor`] on its own [`Resource::User`].
//! - **Council powers come from memberships, site powers from the site role.** Admins manage
//!   accounts and the register; they hold no chair powers, never vote unless they are voting
//!   members themselves, and never see notes or forums of organizations they do not belong to.
//! - **Fractions and groups are self-organised.** Their meetings, papers, polls and minutes belong
//!   to them: clerks and admins (the administration) have no access, and the organization's chair
//!   and deputy chair hold the powers that the clerk holds for official bodies.
//! - **Secret ballots stay secret.** Nobody — not the voter, a chair, a clerk or an admin — may
//!   view a ballot of a secret poll.
//!
//! # Rules
//!
//! Any action not listed for a resource is refused (403 or 404 as above). "Chair" means the
//! organization's chair or deputy chair; "members" means any membership in the organization,
//! advisory and substitute members included; "official" means not a fraction or group.
//!
//! - **Meeting, agenda item** — `View`: everyone if public; else members, council members (for
//!   council and committee material), clerks and admins (official only). `Create`/`Update`/
//!   `Delete`: the clerk (official) or the chair (fraction, group). `ChairMeeting`: the chair,
//!   and the clerk (official). `Participate`: members.
//! - **Minutes** — `View`: everyone if public *and* approved; else as a meeting. `Create`/
//!   `Update`/`Delete`/`Approve`: as meeting writes, and only while not yet approved.
//! - **Poll** — `View`: as a meeting, by the item's publicity. `Vote`: members with a voting right
//!   who are not advisory. `Create`/`Update`/`ManagePoll`: the chair, and the clerk (official).
//!   `Delete`: nobody.
//! - **Ballot** — `View`: in an open or named poll, members and clerks who may view the poll; in a
//!   secret poll nobody. Nothing else (ballots are cast with `Vote` on the poll).
//! - **Paper, file** — `View`: everyone if public; else members of a listed organization, council
//!   members (if a council or committee is listed), clerks and admins (unless only fractions or
//!   groups are listed). `Create`/`Update`/`Delete`: the clerk, or for a fraction's or group's own
//!   papers its chair.
//! - **Note** — private: the author only. Shared with an organization: `View` for its members;
//!   `Create`/`Update`/`Delete` for the author while a member.
//! - **Forum** — `View`/`Post`: members. `Moderate`/`Create`/`Update`/`Delete`: the chair.
//! - **Forum post** — `View`/`Post`: members. `Create`/`Update`: the author (a member). `Delete`:
//!   the author or the chair. `Moderate`: the chair.
//! - **User** — own: `View`, `Update`, `RevokeSessions`, `EnrolSecondFactor`. Others: admins
//!   `View`, `Create`, `Update`, `Delete`, `ResetSecondFactor`, `RevokeSessions`; clerks `View`.
//!   Nobody deletes or resets the second factor of their own account.
//! - **Directory** (the public register) — `View`: everyone. `Create`/`Update`/`Delete`: clerks and admins.
//! - **Body settings** (e.g. the notice period of invitations) — `View`: signed-in users.
//!   `Update`: admins.

use crate::{
    Membership, MembershipRole, OrganizationId, OrganizationKind, PersonId, SiteRole, UserId,
};

/// Who is asking: a citizen without a login, or a signed-in user with their current memberships.
///
/// Build it with [`Actor::anonymous`] or [`Actor::signed_in`] and the `with_*` methods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    user: Option<UserId>,
    person: Option<PersonId>,
    site_role: Option<SiteRole>,
    second_factor: bool,
    memberships: Vec<ActorMembership>,
}

/// One membership of the actor, as the policy needs it.
///
/// Only memberships active today belong in an [`Actor`]: the caller filters by date (see
/// [`Membership::is_active_on`]), so a membership that has ended grants nothing — leaving a
/// fraction ends access to its notes and forum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ActorMembership {
    pub organization: OrganizationId,
    pub kind: OrganizationKind,
    pub role: MembershipRole,
    pub voting_right: bool,
}

impl ActorMembership {
    /// The policy's view of a stored membership; `kind` is the kind of its organization.
    pub fn from_membership(membership: &Membership, kind: OrganizationKind) -> Self {
        Self {
            organization: membership.organization_id,
            kind,
            role: membership.role,
            voting_right: membership.voting_right,
        }
    }

    /// Chair or deputy chair (Vorsitz, stellvertretender Vorsitz).
    fn is_chair(&self) -> bool {
        matches!(
            self.role,
            MembershipRole::Chair | MembershipRole::DeputyChair
        )
    }

    /// Holds a vote in its organization: a voting right and not an advisory member. The live layer
    /// adds presence, conflicts of interest and, for substitutes, whom they stand in for.
    fn may_vote(&self) -> bool {
        self.voting_right && self.role != MembershipRole::Advisory
    }
}

impl Actor {
    /// A citizen without a login (or a request without a valid token).
    pub fn anonymous() -> Self {
        Self {
            user: None,
            person: None,
            site_role: None,
            second_factor: false,
            memberships: Vec::new(),
        }
    }

    /// A signed-in user whose session has not (yet) passed the second factor, with no person and
    /// no memberships; add them with the `with_*` methods.
    pub fn signed_in(user: UserId, site_role: SiteRole) -> Self {
        Self {
            user: Some(user),
            person: None,
            site_role: Some(site_role),
            second_factor: false,
            memberships: Vec::new(),
        }
    }

    /// The council person the login belongs to.
    #[must_use]
    pub fn with_person(mut self, person: PersonId) -> Self {
        self.person = Some(person);
        self
    }

    /// Whether this session passed the second factor (TOTP or a recovery code).
    #[must_use]
    pub fn with_second_factor(mut self, passed: bool) -> Self {
        self.second_factor = passed;
        self
    }

    /// Adds memberships that are active today (the caller filters by date).
    #[must_use]
    pub fn with_memberships(
        mut self,
        memberships: impl IntoIterator<Item = ActorMembership>,
    ) -> Self {
        self.memberships.extend(memberships);
        self
    }

    pub fn user(&self) -> Option<UserId> {
        self.user
    }

    pub fn person(&self) -> Option<PersonId> {
        self.person
    }

    pub fn site_role(&self) -> Option<SiteRole> {
        self.site_role
    }

    pub fn second_factor(&self) -> bool {
        self.second_factor
    }

    pub fn memberships(&self) -> &[ActorMembership] {
        &self.memberships
    }

    /// Signed in and past the second factor: only such a session gets more than a citizen.
    fn is_fully_authenticated(&self) -> bool {
        self.user.is_some() && self.site_role.is_some() && self.second_factor
    }

    fn is_user(&self, user: UserId) -> bool {
        self.user == Some(user)
    }

    fn is_person(&self, person: PersonId) -> bool {
        self.person == Some(person)
    }

    fn is_clerk(&self) -> bool {
        self.site_role == Some(SiteRole::Clerk)
    }

    fn is_admin(&self) -> bool {
        self.site_role == Some(SiteRole::Admin)
    }

    fn memberships_in(
        &self,
        organization: OrganizationId,
    ) -> impl Iterator<Item = &ActorMembership> {
        self.memberships
            .iter()
            .filter(move |membership| membership.organization == organization)
    }

    /// Any membership, whatever the role (advisory and substitute members included).
    fn is_member_of(&self, organization: OrganizationId) -> bool {
        self.memberships_in(organization).next().is_some()
    }

    /// Whether the actor is the chair or a deputy chair of the organization.
    pub fn chairs(&self, organization: OrganizationId) -> bool {
        self.memberships_in(organization)
            .any(ActorMembership::is_chair)
    }

    fn may_vote_in(&self, organization: OrganizationId) -> bool {
        self.memberships_in(organization)
            .any(ActorMembership::may_vote)
    }

    /// A member of a council (Ratsmitglied, Kreistagsmitglied) in any role.
    fn is_council_member(&self) -> bool {
        self.memberships
            .iter()
            .any(|membership| membership.kind == OrganizationKind::Council)
    }
}

/// An organization a resource belongs to, with its kind (the policy treats councils, committees
/// and fractions differently).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrganizationRef {
    pub id: OrganizationId,
    pub kind: OrganizationKind,
}

impl OrganizationRef {
    pub const fn new(id: OrganizationId, kind: OrganizationKind) -> Self {
        Self { id, kind }
    }

    /// Fractions and groups organise themselves: the administration (clerks, admins) has no access
    /// to their non-public material, and their own chair runs their meetings.
    const fn is_self_organised(&self) -> bool {
        matches!(
            self.kind,
            OrganizationKind::Fraction | OrganizationKind::Group
        )
    }

    /// Councils and committees: every council member may read their non-public material
    /// (Ratsmitglieder dürfen Ausschussunterlagen lesen).
    const fn is_readable_by_council(&self) -> bool {
        matches!(
            self.kind,
            OrganizationKind::Council | OrganizationKind::Committee
        )
    }
}

/// Where a note is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoteScope {
    /// Only the author.
    Private,
    /// Shared with the current members of an organization (usually a fraction or group).
    Shared(OrganizationId),
}

/// What the actor wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    View,
    Create,
    Update,
    Delete,
    /// Cast a ballot in a poll.
    Vote,
    /// Prepare, open, close, cancel a poll; announce its result; enter manual tallies.
    ManagePoll,
    /// Run the live session: attendance, quorum, current item, speakers list.
    ChairMeeting,
    /// Take part in a session: check in, declare a conflict of interest, ask to speak.
    Participate,
    /// Write in a forum: a new thread, or a reply to a post.
    Post,
    /// Pin or lock threads and posts.
    Moderate,
    /// Approve minutes.
    Approve,
    /// Set up (or replace) one's own second factor.
    EnrolSecondFactor,
    /// Remove a user's lost second factor so they can enrol again.
    ResetSecondFactor,
    /// End a user's device sessions (a lost tablet).
    RevokeSessions,
}

impl Action {
    /// Every action, in declaration order.
    pub const ALL: &'static [Action] = &[
        Action::View,
        Action::Create,
        Action::Update,
        Action::Delete,
        Action::Vote,
        Action::ManagePoll,
        Action::ChairMeeting,
        Action::Participate,
        Action::Post,
        Action::Moderate,
        Action::Approve,
        Action::EnrolSecondFactor,
        Action::ResetSecondFactor,
        Action::RevokeSessions,
    ];

    const fn is_write(&self) -> bool {
        matches!(self, Action::Create | Action::Update | Action::Delete)
    }
}

/// What the action is about, with the facts the policy needs. For [`Action::Create`] it describes
/// the object to be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// A session (Sitzung). `public`: whether the meeting as such is announced publicly.
    Meeting {
        organization: OrganizationRef,
        public: bool,
    },
    /// A Tagesordnungspunkt; `public` is its Ö/N flag.
    AgendaItem {
        organization: OrganizationRef,
        public: bool,
    },
    /// A Vorlage. `organizations`: the originator and every organization of its Beratungsfolge.
    Paper {
        public: bool,
        organizations: Vec<OrganizationRef>,
    },
    /// An Anlage. `public` and `organizations` are inherited from what the file is attached to
    /// (the paper's, or the meeting's or agenda item's organization).
    File {
        public: bool,
        organizations: Vec<OrganizationRef>,
    },
    /// A Niederschrift of a meeting (or of its public or non-public part).
    Minutes {
        organization: OrganizationRef,
        public: bool,
        approved: bool,
    },
    /// An Abstimmung on an agenda item; its results are as public as the item.
    Poll {
        organization: OrganizationRef,
        item_public: bool,
        secret: bool,
    },
    /// One member's Stimmabgabe. Casting one is [`Action::Vote`] on the [`Resource::Poll`].
    Ballot {
        organization: OrganizationRef,
        item_public: bool,
        secret: bool,
        voter: PersonId,
    },
    /// A member's note on a document.
    Note { author: PersonId, scope: NoteScope },
    /// An organization's forum.
    Forum { organization: OrganizationId },
    /// A thread or post in an organization's forum.
    ForumPost {
        organization: OrganizationId,
        author: PersonId,
    },
    /// A login account, with its second factor and device sessions.
    User { id: UserId },
    /// The public register: bodies, legislative terms, organizations, persons and memberships
    /// (all public in OParl).
    Directory,
    /// The attendance register and the attendance allowance (Sitzungsgeld) per meeting: personal
    /// data for the payroll office. Clerks and admins read it; admins set the amounts.
    AttendanceRegister,
    /// What an admin sets per body, e.g. the notice period of invitations (Ladungsfrist).
    BodySettings,
}

/// The policy's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessDecision {
    Allow,
    /// 403: the actor may know the resource exists, but may not do this.
    Forbidden,
    /// 404: the actor must not even learn that the resource exists.
    NotFound,
}

impl AccessDecision {
    pub const fn is_allowed(&self) -> bool {
        matches!(self, AccessDecision::Allow)
    }

    /// `Allow` if allowed, else `Forbidden` if the actor may see the resource, else `NotFound`.
    const fn from(visible: bool, allowed: bool) -> Self {
        if allowed {
            AccessDecision::Allow
        } else if visible {
            AccessDecision::Forbidden
        } else {
            AccessDecision::NotFound
        }
    }
}

/// Decides whether `actor` may perform `action` on `resource`. See the module documentation for
/// the rules.
pub fn authorize(actor: &Actor, action: Action, resource: &Resource) -> AccessDecision {
    if !actor.is_fully_authenticated() {
        // Enrolling is the one thing a session short of the second factor may do (on its own user).
        if action == Action::EnrolSecondFactor
            && let Resource::User { id } = resource
            && actor.is_user(*id)
            && actor.site_role.is_some()
        {
            return AccessDecision::Allow;
        }
        // Otherwise it is a citizen: its memberships and site role count for nothing.
        return decide(&Actor::anonymous(), action, resource);
    }
    decide(actor, action, resource)
}

/// The rules for an actor that is either anonymous or fully authenticated.
fn decide(actor: &Actor, action: Action, resource: &Resource) -> AccessDecision {
    let (visible, allowed) = match resource {
        Resource::Meeting {
            organization,
            public,
        }
        | Resource::AgendaItem {
            organization,
            public,
        } => {
            let visible = session_visibility(actor, organization, *public).any();
            let allowed = match action {
                Action::View => visible,
                Action::Create | Action::Update | Action::Delete => {
                    keeps_sessions(actor, organization)
                }
                Action::ChairMeeting => may_chair(actor, organization),
                Action::Participate => actor.is_member_of(organization.id),
                _ => false,
            };
            (visible, allowed)
        }
        Resource::Minutes {
            organization,
            public,
            approved,
        } => {
            let visible = session_visibility(actor, organization, *public && *approved).any();
            let allowed = match action {
                Action::View => visible,
                // Approved minutes are the record: a correction is a decision in a later meeting,
                // never an edit.
                Action::Create | Action::Update | Action::Delete | Action::Approve => {
                    !*approved && keeps_sessions(actor, organization)
                }
                _ => false,
            };
            (visible, allowed)
        }
        Resource::Poll {
            organization,
            item_public,
            secret: _,
        } => {
            let visible = session_visibility(actor, organization, *item_public).any();
            let allowed = match action {
                Action::View => visible,
                Action::Vote => actor.may_vote_in(organization.id),
                Action::Create | Action::Update | Action::ManagePoll => {
                    may_chair(actor, organization)
                }
                // A poll stays in the record; one that never opened is cancelled (`ManagePoll`).
                _ => false,
            };
            (visible, allowed)
        }
        Resource::Ballot {
            organization,
            item_public,
            secret,
            voter: _,
        } => {
            // Whoever may see the poll may know that ballots exist.
            let poll = session_visibility(actor, organization, *item_public);
            let allowed = match action {
                // Individual choices of an open or named poll are for the members and the minutes
                // (clerk); citizens read named results in the published minutes. In a secret poll
                // nobody may see a ballot, not even its voter.
                Action::View => !*secret && (poll.membership || poll.clerk),
                // Ballots are cast with `Vote` on the poll and never changed afterwards.
                _ => false,
            };
            (poll.any(), allowed)
        }
        Resource::Paper {
            public,
            organizations,
        }
        | Resource::File {
            public,
            organizations,
        } => {
            let visible = paper_visibility(actor, organizations, *public).any();
            let allowed = match action {
                Action::View => visible,
                Action::Create | Action::Update | Action::Delete => {
                    keeps_papers(actor, organizations)
                }
                _ => false,
            };
            (visible, allowed)
        }
        Resource::Note { author, scope } => {
            // A shared note belongs to its organization: whoever leaves it, author included, loses
            // it with the membership.
            let visible = match scope {
                NoteScope::Private => actor.is_person(*author),
                NoteScope::Shared(organization) => actor.is_member_of(*organization),
            };
            let own = visible && actor.is_person(*author);
            let allowed = match action {
                Action::View => visible,
                Action::Create | Action::Update | Action::Delete => own,
                _ => false,
            };
            (visible, allowed)
        }
        Resource::Forum { organization } => {
            let member = actor.is_member_of(*organization);
            let chair = actor.chairs(*organization);
            let allowed = match action {
                Action::View | Action::Post => member,
                Action::Moderate | Action::Create | Action::Update | Action::Delete => chair,
                _ => false,
            };
            (member, allowed)
        }
        Resource::ForumPost {
            organization,
            author,
        } => {
            let member = actor.is_member_of(*organization);
            let chair = actor.chairs(*organization);
            let own = member && actor.is_person(*author);
            let allowed = match action {
                Action::View | Action::Post => member,
                Action::Create | Action::Update => own,
                Action::Delete => own || chair,
                Action::Moderate => chair,
                _ => false,
            };
            (member, allowed)
        }
        Resource::User { id } => {
            let own = actor.is_user(*id);
            let admin = actor.is_admin();
            let visible = own || admin || actor.is_clerk();
            let allowed = match action {
                Action::View => visible,
                Action::Update | Action::RevokeSessions => own || admin,
                Action::EnrolSecondFactor => own,
                // Four eyes: an admin cannot delete their own account or reset their own second
                // factor (that also keeps the last admin from locking everyone out).
                Action::Create | Action::Delete | Action::ResetSecondFactor => admin && !own,
                _ => false,
            };
            (visible, allowed)
        }
        Resource::Directory => {
            let allowed = match action {
                Action::View => true,
                // The clerk keeps the register (e.g. who is published), as admins may.
                action if action.is_write() => actor.is_admin() || actor.is_clerk(),
                _ => false,
            };
            (true, allowed)
        }
        Resource::AttendanceRegister => {
            let keeper = actor.is_admin() || actor.is_clerk();
            let allowed = match action {
                Action::View => keeper,
                Action::Update => actor.is_admin(),
                _ => false,
            };
            (keeper, allowed)
        }
        Resource::BodySettings => {
            let signed_in = actor.user.is_some();
            let allowed = match action {
                Action::View => signed_in,
                Action::Update => actor.is_admin(),
                _ => false,
            };
            (signed_in, allowed)
        }
    };
    AccessDecision::from(visible, allowed)
}

/// Through which door an actor may see a piece of material.
#[derive(Debug, Clone, Copy)]
struct Visibility {
    public: bool,
    /// A member of the organization, or a council member reading council/committee material.
    membership: bool,
    clerk: bool,
    admin: bool,
}

impl Visibility {
    fn any(&self) -> bool {
        self.public || self.membership || self.clerk || self.admin
    }
}

/// Who may see meeting material (meetings, agenda items, minutes, polls) of `organization`.
fn session_visibility(actor: &Actor, organization: &OrganizationRef, public: bool) -> Visibility {
    let administration = !organization.is_self_organised();
    Visibility {
        public,
        membership: actor.is_member_of(organization.id)
            || (organization.is_readable_by_council() && actor.is_council_member()),
        clerk: administration && actor.is_clerk(),
        admin: administration && actor.is_admin(),
    }
}

/// Whether only fractions and groups are involved, so the administration has no access. A paper
/// with no organization yet is the administration's own draft.
fn is_self_organised_only(organizations: &[OrganizationRef]) -> bool {
    !organizations.is_empty() && organizations.iter().all(OrganizationRef::is_self_organised)
}

/// Who may see a paper or file involving `organizations`.
fn paper_visibility(actor: &Actor, organizations: &[OrganizationRef], public: bool) -> Visibility {
    let administration = !is_self_organised_only(organizations);
    Visibility {
        public,
        membership: organizations.iter().any(|organization| {
            actor.is_member_of(organization.id)
                || (organization.is_readable_by_council() && actor.is_council_member())
        }),
        clerk: administration && actor.is_clerk(),
        admin: administration && actor.is_admin(),
    }
}

/// The Sitzungsdienst of `organization`: the clerk for official bodies, the chair and deputy
/// chair for fractions and groups.
fn keeps_sessions(actor: &Actor, organization: &OrganizationRef) -> bool {
    if organization.is_self_organised() {
        actor.chairs(organization.id)
    } else {
        actor.is_clerk()
    }
}

/// Who writes papers and files: the clerk, or for a fraction's or group's own papers its chair.
fn keeps_papers(actor: &Actor, organizations: &[OrganizationRef]) -> bool {
    if is_self_organised_only(organizations) {
        organizations
            .iter()
            .any(|organization| actor.chairs(organization.id))
    } else {
        actor.is_clerk()
    }
}

/// Who runs the live session and its polls: the chair and deputy chair, and the clerk at the
/// chair console (not for fractions and groups).
fn may_chair(actor: &Actor, organization: &OrganizationRef) -> bool {
    actor.chairs(organization.id) || (!organization.is_self_organised() && actor.is_clerk())
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    // ---------------------------------------------------------------------------------------
    // Fixtures
    // ---------------------------------------------------------------------------------------

    fn organization_id(name: &str) -> OrganizationId {
        OrganizationId::from_name(&Uuid::nil(), name)
    }
    fn person(code: &str) -> PersonId {
        PersonId::from_name(&Uuid::nil(), code)
    }
    fn user(code: &str) -> UserId {
        UserId::from_name(&Uuid::nil(), code)
    }

    fn council() -> OrganizationRef {
        OrganizationRef::new(organization_id("council"), OrganizationKind::Council)
    }
    fn committee() -> OrganizationRef {
        OrganizationRef::new(organization_id("committee"), OrganizationKind::Committee)
    }
    fn administration() -> OrganizationRef {
        OrganizationRef::new(
            organization_id("administration"),
            OrganizationKind::Administration,
        )
    }
    fn fraction_a() -> OrganizationRef {
        OrganizationRef::new(organization_id("fraction a"), OrganizationKind::Fraction)
    }
    fn fraction_b() -> OrganizationRef {
        OrganizationRef::new(organization_id("fraction b"), OrganizationKind::Fraction)
    }

    fn membership(
        organization: OrganizationRef,
        role: MembershipRole,
        vote: bool,
    ) -> ActorMembership {
        ActorMembership {
            organization: organization.id,
            kind: organization.kind,
            role,
            voting_right: vote,
        }
    }
    fn council_member() -> ActorMembership {
        membership(council(), MembershipRole::Member, true)
    }

    /// A signed-in member (site role `member`) past the second factor, with a person.
    fn member(code: &str, memberships: Vec<ActorMembership>) -> Actor {
        Actor::signed_in(user(code), SiteRole::Member)
            .with_person(person(code))
            .with_second_factor(true)
            .with_memberships(memberships)
    }

    /// The matrix columns: every role, in this order.
    const ACTORS: [&str; 13] = [
        "an", "nf", "co", "fa", "fc", "fb", "cm", "ch", "dc", "av", "su", "cl", "ad",
    ];

    fn actor(code: &str) -> Actor {
        use MembershipRole::*;
        match code {
            // Citizen without a login.
            "an" => Actor::anonymous(),
            // A council member, fraction A chair and committee chair whose session has not passed
            // the second factor: all of that must count for nothing.
            "nf" => Actor::signed_in(user(code), SiteRole::Member)
                .with_person(person(code))
                .with_second_factor(false)
                .with_memberships([
                    council_member(),
                    membership(fraction_a(), Chair, true),
                    membership(committee(), Chair, true),
                ]),
            // Council member in no fraction (fraktionslos).
            "co" => member(code, vec![council_member()]),
            // Council member in fraction A.
            "fa" => member(
                code,
                vec![council_member(), membership(fraction_a(), Member, true)],
            ),
            // Council member chairing fraction A (Fraktionsvorsitz).
            "fc" => member(
                code,
                vec![council_member(), membership(fraction_a(), Chair, true)],
            ),
            // Council member in fraction B.
            "fb" => member(
                code,
                vec![council_member(), membership(fraction_b(), Member, true)],
            ),
            // Committee members who are not council members (sachkundige Bürger), by role.
            "cm" => member(code, vec![membership(committee(), Member, true)]),
            "ch" => member(code, vec![membership(committee(), Chair, true)]),
            "dc" => member(code, vec![membership(committee(), DeputyChair, true)]),
            "av" => member(code, vec![membership(committee(), Advisory, false)]),
            "su" => member(code, vec![membership(committee(), Substitute, true)]),
            // Sitzungsdienst, with a person but no memberships.
            "cl" => Actor::signed_in(user(code), SiteRole::Clerk)
                .with_person(person(code))
                .with_second_factor(true),
            // Admin account without a person.
            "ad" => Actor::signed_in(user(code), SiteRole::Admin).with_second_factor(true),
            other => panic!("unknown actor {other}"),
        }
    }

    fn meeting(organization: OrganizationRef, public: bool) -> Resource {
        Resource::Meeting {
            organization,
            public,
        }
    }
    fn item(organization: OrganizationRef, public: bool) -> Resource {
        Resource::AgendaItem {
            organization,
            public,
        }
    }
    fn minutes(organization: OrganizationRef, public: bool, approved: bool) -> Resource {
        Resource::Minutes {
            organization,
            public,
            approved,
        }
    }
    fn poll(organization: OrganizationRef, item_public: bool, secret: bool) -> Resource {
        Resource::Poll {
            organization,
            item_public,
            secret,
        }
    }
    fn ballot(
        organization: OrganizationRef,
        item_public: bool,
        secret: bool,
        voter: &str,
    ) -> Resource {
        Resource::Ballot {
            organization,
            item_public,
            secret,
            voter: person(voter),
        }
    }
    fn paper(public: bool, organizations: Vec<OrganizationRef>) -> Resource {
        Resource::Paper {
            public,
            organizations,
        }
    }
    fn file(public: bool, organizations: Vec<OrganizationRef>) -> Resource {
        Resource::File {
            public,
            organizations,
        }
    }
    fn note(author: &str, scope: NoteScope) -> Resource {
        Resource::Note {
            author: person(author),
            scope,
        }
    }
    fn forum_post(organization: OrganizationRef, author: &str) -> Resource {
        Resource::ForumPost {
            organization: organization.id,
            author: person(author),
        }
    }

    /// The resource of a matrix row: fixed, or the acting user's own account.
    enum Target {
        Fixed(Resource),
        OwnUser,
    }

    impl Target {
        fn resolve(&self, actor_code: &str) -> Resource {
            match self {
                Target::Fixed(resource) => resource.clone(),
                Target::OwnUser => Resource::User {
                    id: user(actor_code),
                },
            }
        }
    }

    /// Every resource kind, public and non-public, of council, committee and fraction A.
    /// `-closed` means non-public; `other` is a voter who is none of the actors.
    fn targets() -> Vec<(&'static str, Target)> {
        use Target::*;
        let c = committee;
        vec![
            ("meeting council-public", Fixed(meeting(council(), true))),
            ("meeting council-closed", Fixed(meeting(council(), false))),
            ("meeting committee-public", Fixed(meeting(c(), true))),
            ("meeting committee-closed", Fixed(meeting(c(), false))),
            (
                "meeting fraction-a-closed",
                Fixed(meeting(fraction_a(), false)),
            ),
            ("item council-public", Fixed(item(council(), true))),
            ("item council-closed", Fixed(item(council(), false))),
            ("item committee-closed", Fixed(item(c(), false))),
            ("item fraction-a-closed", Fixed(item(fraction_a(), false))),
            (
                "minutes council-public-approved",
                Fixed(minutes(council(), true, true)),
            ),
            (
                "minutes council-public-draft",
                Fixed(minutes(council(), true, false)),
            ),
            (
                "minutes committee-closed-approved",
                Fixed(minutes(c(), false, true)),
            ),
            (
                "minutes committee-closed-draft",
                Fixed(minutes(c(), false, false)),
            ),
            (
                "minutes fraction-a-closed-draft",
                Fixed(minutes(fraction_a(), false, false)),
            ),
            (
                "poll council-public-open",
                Fixed(poll(council(), true, false)),
            ),
            ("poll committee-public-secret", Fixed(poll(c(), true, true))),
            ("poll committee-closed-open", Fixed(poll(c(), false, false))),
            (
                "poll fraction-a-closed-secret",
                Fixed(poll(fraction_a(), false, true)),
            ),
            (
                "ballot committee-public-open-of-other",
                Fixed(ballot(c(), true, false, "other")),
            ),
            (
                "ballot committee-public-secret-of-other",
                Fixed(ballot(c(), true, true, "other")),
            ),
            (
                "ballot committee-closed-open-of-other",
                Fixed(ballot(c(), false, false, "other")),
            ),
            (
                "ballot committee-closed-secret-of-cm",
                Fixed(ballot(c(), false, true, "cm")),
            ),
            (
                "paper public-committee-council",
                Fixed(paper(true, vec![c(), council()])),
            ),
            (
                "paper closed-committee-council",
                Fixed(paper(false, vec![c(), council()])),
            ),
            (
                "paper closed-administration",
                Fixed(paper(false, vec![administration()])),
            ),
            (
                "paper closed-fraction-a",
                Fixed(paper(false, vec![fraction_a()])),
            ),
            ("file public-committee", Fixed(file(true, vec![c()]))),
            ("file closed-committee", Fixed(file(false, vec![c()]))),
            (
                "file closed-fraction-a",
                Fixed(file(false, vec![fraction_a()])),
            ),
            ("note private-of-fa", Fixed(note("fa", NoteScope::Private))),
            (
                "note fraction-a-of-fa",
                Fixed(note("fa", NoteScope::Shared(fraction_a().id))),
            ),
            (
                "note committee-of-cm",
                Fixed(note("cm", NoteScope::Shared(c().id))),
            ),
            (
                "forum fraction-a",
                Fixed(Resource::Forum {
                    organization: fraction_a().id,
                }),
            ),
            (
                "forum committee",
                Fixed(Resource::Forum {
                    organization: c().id,
                }),
            ),
            (
                "post fraction-a-of-fa",
                Fixed(forum_post(fraction_a(), "fa")),
            ),
            ("post committee-of-su", Fixed(forum_post(c(), "su"))),
            ("user own", OwnUser),
            ("user of-fa", Fixed(Resource::User { id: user("fa") })),
            ("directory", Fixed(Resource::Directory)),
        ]
    }

    fn letter(decision: AccessDecision) -> char {
        match decision {
            AccessDecision::Allow => 'A',
            AccessDecision::Forbidden => 'F',
            AccessDecision::NotFound => 'N',
        }
    }

    // ---------------------------------------------------------------------------------------
    // The matrix: every action × every resource kind (public and non-public) × every role
    // ---------------------------------------------------------------------------------------

    /// The expected decision of every cell, written out by hand.
    ///
    /// A line without indentation names a resource of [`targets`]; the indented lines below it give
    /// the 13 decisions for the actions listed after them, one letter per actor:
    ///
    /// - letters: `A` allow, `F` forbidden (403), `N` not found (404);
    /// - columns, grouped by spaces: `[an nf] [co fa fc fb] [cm ch dc av su] [cl ad]`
    ///   - `an` anonymous citizen, `nf` signed in without the second factor (a council member,
    ///     fraction A chair and committee chair);
    ///   - council members: `co` in no fraction, `fa` in fraction A, `fc` chair of fraction A,
    ///     `fb` in fraction B;
    ///   - committee members who are not council members: `cm` member, `ch` chair, `dc` deputy
    ///     chair, `av` advisory (no vote), `su` substitute;
    ///   - `cl` clerk, `ad` admin (neither holds a membership).
    ///
    /// Every (resource, action) pair must appear exactly once.
    const MATRIX: &str = "
meeting council-public
    AA AAAA AAAAA AA  View
    FF FFFF FFFFF AF  Create Update Delete ChairMeeting
    FF FFFF FFFFF FF  Vote ManagePoll Post Moderate Approve EnrolSecondFactor ResetSecondFactor
    FF FFFF FFFFF FF  RevokeSessions
    FF AAAA FFFFF FF  Participate
meeting council-closed
    NN AAAA NNNNN AA  View
    NN FFFF NNNNN AF  Create Update Delete ChairMeeting
    NN FFFF NNNNN FF  Vote ManagePoll Post Moderate Approve EnrolSecondFactor ResetSecondFactor
    NN FFFF NNNNN FF  RevokeSessions
    NN AAAA NNNNN FF  Participate
meeting committee-public
    AA AAAA AAAAA AA  View
    FF FFFF FFFFF AF  Create Update Delete
    FF FFFF FFFFF FF  Vote ManagePoll Post Moderate Approve EnrolSecondFactor ResetSecondFactor
    FF FFFF FFFFF FF  RevokeSessions
    FF FFFF FAAFF AF  ChairMeeting
    FF FFFF AAAAA FF  Participate
meeting committee-closed
    NN AAAA AAAAA AA  View
    NN FFFF FFFFF AF  Create Update Delete
    NN FFFF FFFFF FF  Vote ManagePoll Post Moderate Approve EnrolSecondFactor ResetSecondFactor
    NN FFFF FFFFF FF  RevokeSessions
    NN FFFF FAAFF AF  ChairMeeting
    NN FFFF AAAAA FF  Participate
meeting fraction-a-closed
    NN NAAN NNNNN NN  View Participate
    NN NFAN NNNNN NN  Create Update Delete ChairMeeting
    NN NFFN NNNNN NN  Vote ManagePoll Post Moderate Approve EnrolSecondFactor ResetSecondFactor
    NN NFFN NNNNN NN  RevokeSessions
item council-public
    AA AAAA AAAAA AA  View
    FF FFFF FFFFF AF  Create Update Delete ChairMeeting
    FF FFFF FFFFF FF  Vote ManagePoll Post Moderate Approve EnrolSecondFactor ResetSecondFactor
    FF FFFF FFFFF FF  RevokeSessions
    FF AAAA FFFFF FF  Participate
item council-closed
    NN AAAA NNNNN AA  View
    NN FFFF NNNNN AF  Create Update Delete ChairMeeting
    NN FFFF NNNNN FF  Vote ManagePoll Post Moderate Approve EnrolSecondFactor ResetSecondFactor
    NN FFFF NNNNN FF  RevokeSessions
    NN AAAA NNNNN FF  Participate
item committee-closed
    NN AAAA AAAAA AA  View
    NN FFFF FFFFF AF  Create Update Delete
    NN FFFF FFFFF FF  Vote ManagePoll Post Moderate Approve EnrolSecondFactor ResetSecondFactor
    NN FFFF FFFFF FF  RevokeSessions
    NN FFFF FAAFF AF  ChairMeeting
    NN FFFF AAAAA FF  Participate
item fraction-a-closed
    NN NAAN NNNNN NN  View Participate
    NN NFAN NNNNN NN  Create Update Delete ChairMeeting
    NN NFFN NNNNN NN  Vote ManagePoll Post Moderate Approve EnrolSecondFactor ResetSecondFactor
    NN NFFN NNNNN NN  RevokeSessions
minutes council-public-approved
    AA AAAA AAAAA AA  View
    FF FFFF FFFFF FF  Create Update Delete Vote ManagePoll ChairMeeting Participate Post
    FF FFFF FFFFF FF  Moderate Approve EnrolSecondFactor ResetSecondFactor RevokeSessions
minutes council-public-draft
    NN AAAA NNNNN AA  View
    NN FFFF NNNNN AF  Create Update Delete Approve
    NN FFFF NNNNN FF  Vote ManagePoll ChairMeeting Participate Post Moderate EnrolSecondFactor
    NN FFFF NNNNN FF  ResetSecondFactor RevokeSessions
minutes committee-closed-approved
    NN AAAA AAAAA AA  View
    NN FFFF FFFFF FF  Create Update Delete Vote ManagePoll ChairMeeting Participate Post
    NN FFFF FFFFF FF  Moderate Approve EnrolSecondFactor ResetSecondFactor RevokeSessions
minutes committee-closed-draft
    NN AAAA AAAAA AA  View
    NN FFFF FFFFF AF  Create Update Delete Approve
    NN FFFF FFFFF FF  Vote ManagePoll ChairMeeting Participate Post Moderate EnrolSecondFactor
    NN FFFF FFFFF FF  ResetSecondFactor RevokeSessions
minutes fraction-a-closed-draft
    NN NAAN NNNNN NN  View
    NN NFAN NNNNN NN  Create Update Delete Approve
    NN NFFN NNNNN NN  Vote ManagePoll ChairMeeting Participate Post Moderate EnrolSecondFactor
    NN NFFN NNNNN NN  ResetSecondFactor RevokeSessions
poll council-public-open
    AA AAAA AAAAA AA  View
    FF FFFF FFFFF AF  Create Update ManagePoll
    FF FFFF FFFFF FF  Delete ChairMeeting Participate Post Moderate Approve EnrolSecondFactor
    FF FFFF FFFFF FF  ResetSecondFactor RevokeSessions
    FF AAAA FFFFF FF  Vote
poll committee-public-secret
    AA AAAA AAAAA AA  View
    FF FFFF FAAFF AF  Create Update ManagePoll
    FF FFFF FFFFF FF  Delete ChairMeeting Participate Post Moderate Approve EnrolSecondFactor
    FF FFFF FFFFF FF  ResetSecondFactor RevokeSessions
    FF FFFF AAAFA FF  Vote
poll committee-closed-open
    NN AAAA AAAAA AA  View
    NN FFFF FAAFF AF  Create Update ManagePoll
    NN FFFF FFFFF FF  Delete ChairMeeting Participate Post Moderate Approve EnrolSecondFactor
    NN FFFF FFFFF FF  ResetSecondFactor RevokeSessions
    NN FFFF AAAFA FF  Vote
poll fraction-a-closed-secret
    NN NAAN NNNNN NN  View Vote
    NN NFAN NNNNN NN  Create Update ManagePoll
    NN NFFN NNNNN NN  Delete ChairMeeting Participate Post Moderate Approve EnrolSecondFactor
    NN NFFN NNNNN NN  ResetSecondFactor RevokeSessions
ballot committee-public-open-of-other
    FF AAAA AAAAA AF  View
    FF FFFF FFFFF FF  Create Update Delete Vote ManagePoll ChairMeeting Participate Post
    FF FFFF FFFFF FF  Moderate Approve EnrolSecondFactor ResetSecondFactor RevokeSessions
ballot committee-public-secret-of-other
    FF FFFF FFFFF FF  View Create Update Delete Vote ManagePoll ChairMeeting Participate Post
    FF FFFF FFFFF FF  Moderate Approve EnrolSecondFactor ResetSecondFactor RevokeSessions
ballot committee-closed-open-of-other
    NN AAAA AAAAA AF  View
    NN FFFF FFFFF FF  Create Update Delete Vote ManagePoll ChairMeeting Participate Post
    NN FFFF FFFFF FF  Moderate Approve EnrolSecondFactor ResetSecondFactor RevokeSessions
ballot committee-closed-secret-of-cm
    NN FFFF FFFFF FF  View Create Update Delete Vote ManagePoll ChairMeeting Participate Post
    NN FFFF FFFFF FF  Moderate Approve EnrolSecondFactor ResetSecondFactor RevokeSessions
paper public-committee-council
    AA AAAA AAAAA AA  View
    FF FFFF FFFFF AF  Create Update Delete
    FF FFFF FFFFF FF  Vote ManagePoll ChairMeeting Participate Post Moderate Approve
    FF FFFF FFFFF FF  EnrolSecondFactor ResetSecondFactor RevokeSessions
paper closed-committee-council
    NN AAAA AAAAA AA  View
    NN FFFF FFFFF AF  Create Update Delete
    NN FFFF FFFFF FF  Vote ManagePoll ChairMeeting Participate Post Moderate Approve
    NN FFFF FFFFF FF  EnrolSecondFactor ResetSecondFactor RevokeSessions
paper closed-administration
    NN NNNN NNNNN AA  View
    NN NNNN NNNNN AF  Create Update Delete
    NN NNNN NNNNN FF  Vote ManagePoll ChairMeeting Participate Post Moderate Approve
    NN NNNN NNNNN FF  EnrolSecondFactor ResetSecondFactor RevokeSessions
paper closed-fraction-a
    NN NAAN NNNNN NN  View
    NN NFAN NNNNN NN  Create Update Delete
    NN NFFN NNNNN NN  Vote ManagePoll ChairMeeting Participate Post Moderate Approve
    NN NFFN NNNNN NN  EnrolSecondFactor ResetSecondFactor RevokeSessions
file public-committee
    AA AAAA AAAAA AA  View
    FF FFFF FFFFF AF  Create Update Delete
    FF FFFF FFFFF FF  Vote ManagePoll ChairMeeting Participate Post Moderate Approve
    FF FFFF FFFFF FF  EnrolSecondFactor ResetSecondFactor RevokeSessions
file closed-committee
    NN AAAA AAAAA AA  View
    NN FFFF FFFFF AF  Create Update Delete
    NN FFFF FFFFF FF  Vote ManagePoll ChairMeeting Participate Post Moderate Approve
    NN FFFF FFFFF FF  EnrolSecondFactor ResetSecondFactor RevokeSessions
file closed-fraction-a
    NN NAAN NNNNN NN  View
    NN NFAN NNNNN NN  Create Update Delete
    NN NFFN NNNNN NN  Vote ManagePoll ChairMeeting Participate Post Moderate Approve
    NN NFFN NNNNN NN  EnrolSecondFactor ResetSecondFactor RevokeSessions
note private-of-fa
    NN NANN NNNNN NN  View Create Update Delete
    NN NFNN NNNNN NN  Vote ManagePoll ChairMeeting Participate Post Moderate Approve
    NN NFNN NNNNN NN  EnrolSecondFactor ResetSecondFactor RevokeSessions
note fraction-a-of-fa
    NN NAAN NNNNN NN  View
    NN NAFN NNNNN NN  Create Update Delete
    NN NFFN NNNNN NN  Vote ManagePoll ChairMeeting Participate Post Moderate Approve
    NN NFFN NNNNN NN  EnrolSecondFactor ResetSecondFactor RevokeSessions
note committee-of-cm
    NN NNNN AAAAA NN  View
    NN NNNN AFFFF NN  Create Update Delete
    NN NNNN FFFFF NN  Vote ManagePoll ChairMeeting Participate Post Moderate Approve
    NN NNNN FFFFF NN  EnrolSecondFactor ResetSecondFactor RevokeSessions
forum fraction-a
    NN NAAN NNNNN NN  View Post
    NN NFAN NNNNN NN  Create Update Delete Moderate
    NN NFFN NNNNN NN  Vote ManagePoll ChairMeeting Participate Approve EnrolSecondFactor
    NN NFFN NNNNN NN  ResetSecondFactor RevokeSessions
forum committee
    NN NNNN AAAAA NN  View Post
    NN NNNN FAAFF NN  Create Update Delete Moderate
    NN NNNN FFFFF NN  Vote ManagePoll ChairMeeting Participate Approve EnrolSecondFactor
    NN NNNN FFFFF NN  ResetSecondFactor RevokeSessions
post fraction-a-of-fa
    NN NAAN NNNNN NN  View Delete Post
    NN NAFN NNNNN NN  Create Update
    NN NFFN NNNNN NN  Vote ManagePoll ChairMeeting Participate Approve EnrolSecondFactor
    NN NFFN NNNNN NN  ResetSecondFactor RevokeSessions
    NN NFAN NNNNN NN  Moderate
post committee-of-su
    NN NNNN AAAAA NN  View Post
    NN NNNN FFFFA NN  Create Update
    NN NNNN FAAFA NN  Delete
    NN NNNN FFFFF NN  Vote ManagePoll ChairMeeting Participate Approve EnrolSecondFactor
    NN NNNN FFFFF NN  ResetSecondFactor RevokeSessions
    NN NNNN FAAFF NN  Moderate
user own
    NN AAAA AAAAA AA  View Update RevokeSessions
    NN FFFF FFFFF FF  Create Delete Vote ManagePoll ChairMeeting Participate Post Moderate
    NN FFFF FFFFF FF  Approve ResetSecondFactor
    NA AAAA AAAAA AA  EnrolSecondFactor
user of-fa
    NN NANN NNNNN AA  View
    NN NFNN NNNNN FA  Create Delete ResetSecondFactor
    NN NANN NNNNN FA  Update RevokeSessions
    NN NFNN NNNNN FF  Vote ManagePoll ChairMeeting Participate Post Moderate Approve
    NN NANN NNNNN FF  EnrolSecondFactor
directory
    AA AAAA AAAAA AA  View
    FF FFFF FFFFF AA  Create Update Delete
    FF FFFF FFFFF FF  Vote ManagePoll ChairMeeting Participate Post Moderate Approve
    FF FFFF FFFFF FF  EnrolSecondFactor ResetSecondFactor RevokeSessions
";

    struct Row {
        resource: String,
        action: Action,
        letters: Vec<char>,
    }

    fn parse_action(name: &str) -> Action {
        Action::ALL
            .iter()
            .copied()
            .find(|action| format!("{action:?}") == name)
            .unwrap_or_else(|| panic!("unknown action {name:?} in the matrix"))
    }

    fn parse_matrix() -> Vec<Row> {
        let mut rows = Vec::new();
        let mut resource: Option<String> = None;
        for line in MATRIX.lines().filter(|line| !line.trim().is_empty()) {
            if !line.starts_with(' ') {
                resource = Some(line.trim().to_owned());
                continue;
            }
            let resource = resource.clone().expect("a row before the first resource");
            let (letters, actions): (Vec<&str>, Vec<&str>) = line
                .split_whitespace()
                .partition(|token| token.chars().all(|c| matches!(c, 'A' | 'F' | 'N')));
            let letters: Vec<char> = letters.concat().chars().collect();
            assert_eq!(
                letters.len(),
                ACTORS.len(),
                "wrong number of letters in {line:?}"
            );
            assert!(!actions.is_empty(), "no action in {line:?}");
            for name in actions {
                rows.push(Row {
                    resource: resource.clone(),
                    action: parse_action(name),
                    letters: letters.clone(),
                });
            }
        }
        rows
    }

    #[test]
    fn matrix_covers_every_resource_and_action_exactly_once() {
        let rows = parse_matrix();
        let targets = targets();
        let mut keys: Vec<&str> = targets.iter().map(|(key, _)| *key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(
            keys.len(),
            targets.len(),
            "duplicate resource keys in targets()"
        );
        for (key, _) in &targets {
            for &action in Action::ALL {
                let count = rows
                    .iter()
                    .filter(|row| row.resource == *key && row.action == action)
                    .count();
                assert_eq!(
                    count, 1,
                    "{key} / {action:?} appears {count} times in the matrix"
                );
            }
        }
        for row in &rows {
            assert!(
                keys.contains(&row.resource.as_str()),
                "unknown resource {:?}",
                row.resource
            );
        }
        assert_eq!(rows.len(), targets.len() * Action::ALL.len());
    }

    #[test]
    fn every_role_gets_the_decision_in_the_matrix() {
        let actors: Vec<Actor> = ACTORS.iter().map(|code| actor(code)).collect();
        let targets = targets();
        let mut mismatches = Vec::new();
        let mut cells = 0;
        for row in parse_matrix() {
            let (_, target) = targets
                .iter()
                .find(|(key, _)| *key == row.resource)
                .expect("checked by the coverage test");
            for (column, code) in ACTORS.iter().enumerate() {
                let resource = target.resolve(code);
                let got = letter(authorize(&actors[column], row.action, &resource));
                cells += 1;
                if got != row.letters[column] {
                    mismatches.push(format!(
                        "{} / {:?} / {code}: expected {}, got {got}",
                        row.resource, row.action, row.letters[column]
                    ));
                }
            }
        }
        assert!(
            mismatches.is_empty(),
            "{} cells differ:\n{}",
            mismatches.len(),
            mismatches.join("\n")
        );
        assert_eq!(cells, targets.len() * Action::ALL.len() * ACTORS.len());
    }

    // ---------------------------------------------------------------------------------------
    // Focused properties
    // ---------------------------------------------------------------------------------------

    /// Everything of fraction B that is not public, of every resource kind.
    fn fraction_b_internals() -> Vec<Resource> {
        let b = fraction_b();
        let mut resources = vec![
            paper(false, vec![b]),
            file(false, vec![b]),
            note("fb", NoteScope::Shared(b.id)),
            Resource::Forum { organization: b.id },
            forum_post(b, "fb"),
        ];
        for approved in [false, true] {
            resources.push(minutes(b, false, approved));
        }
        for secret in [false, true] {
            resources.push(poll(b, false, secret));
            for voter in ["fb", "fa", "other"] {
                resources.push(ballot(b, false, secret, voter));
            }
        }
        resources.push(meeting(b, false));
        resources.push(item(b, false));
        resources
    }

    #[test]
    fn nobody_outside_fraction_b_learns_that_its_internals_exist() {
        let internals = fraction_b_internals();
        for code in ACTORS.iter().filter(|code| **code != "fb") {
            let actor = actor(code);
            for resource in &internals {
                for &action in Action::ALL {
                    assert_eq!(
                        authorize(&actor, action, resource),
                        AccessDecision::NotFound,
                        "{code} / {action:?} / {resource:?}"
                    );
                }
            }
        }
        // Fraction A members in particular, even with every other power a member can hold.
        let powerful = member(
            "fa",
            vec![
                council_member(),
                membership(fraction_a(), MembershipRole::Chair, true),
                membership(committee(), MembershipRole::Chair, true),
            ],
        );
        for resource in &internals {
            for &action in Action::ALL {
                assert_eq!(
                    authorize(&powerful, action, resource),
                    AccessDecision::NotFound
                );
            }
        }
    }

    #[test]
    fn fraction_b_member_sees_its_own_internals() {
        let fb = actor("fb");
        for resource in fraction_b_internals() {
            let decision = authorize(&fb, Action::View, &resource);
            let secret_ballot = matches!(resource, Resource::Ballot { secret: true, .. });
            let expected = if secret_ballot {
                AccessDecision::Forbidden
            } else {
                AccessDecision::Allow
            };
            assert_eq!(decision, expected, "{resource:?}");
        }
    }

    #[test]
    fn nobody_views_a_ballot_in_a_secret_poll() {
        use MembershipRole::*;
        let mut actors: Vec<Actor> = ACTORS.iter().map(|code| actor(code)).collect();
        // Someone holding every power at once: each site role, and chair with a vote everywhere.
        let organizations = [
            council(),
            committee(),
            fraction_a(),
            fraction_b(),
            administration(),
        ];
        for site_role in SiteRole::ALL {
            actors.push(
                Actor::signed_in(user("all"), *site_role)
                    .with_person(person("all"))
                    .with_second_factor(true)
                    .with_memberships(organizations.iter().map(|o| membership(*o, Chair, true))),
            );
        }
        for actor in &actors {
            for organization in organizations {
                for item_public in [true, false] {
                    // The actor's own ballot, and someone else's.
                    let voters = [
                        actor.person().unwrap_or_else(|| person("none")),
                        person("other"),
                    ];
                    for voter in voters {
                        let resource = Resource::Ballot {
                            organization,
                            item_public,
                            secret: true,
                            voter,
                        };
                        for &action in Action::ALL {
                            assert!(
                                !authorize(actor, action, &resource).is_allowed(),
                                "{actor:?} / {action:?} / {resource:?}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// Every non-public resource of [`targets`] and [`fraction_b_internals`].
    fn non_public_resources() -> Vec<Resource> {
        let mut resources: Vec<Resource> = targets()
            .into_iter()
            .filter_map(|(_, target)| match target {
                Target::Fixed(resource) => Some(resource),
                Target::OwnUser => None,
            })
            .filter(|resource| match resource {
                Resource::Meeting { public, .. }
                | Resource::AgendaItem { public, .. }
                | Resource::Paper { public, .. }
                | Resource::File { public, .. } => !public,
                Resource::Minutes {
                    public, approved, ..
                } => !(*public && *approved),
                Resource::Poll { item_public, .. } | Resource::Ballot { item_public, .. } => {
                    !item_public
                }
                Resource::Note { .. }
                | Resource::Forum { .. }
                | Resource::ForumPost { .. }
                | Resource::User { .. }
                | Resource::AttendanceRegister
                | Resource::BodySettings => true,
                Resource::Directory => false,
            })
            .collect();
        resources.extend(fraction_b_internals());
        resources.push(Resource::User { id: user("an") });
        resources
    }

    #[test]
    fn citizens_never_get_forbidden_for_non_public_resources() {
        let citizens = [
            Actor::anonymous(),
            actor("nf"),
            // A session whose second factor is pending is a citizen too, whatever its role.
            Actor::signed_in(user("x"), SiteRole::Admin),
            Actor::signed_in(user("x"), SiteRole::Clerk).with_person(person("cl")),
        ];
        for citizen in &citizens {
            for resource in non_public_resources() {
                for &action in Action::ALL {
                    let decision = authorize(citizen, action, &resource);
                    assert_ne!(
                        decision,
                        AccessDecision::Forbidden,
                        "{citizen:?} / {action:?} / {resource:?}"
                    );
                    assert_ne!(
                        decision,
                        AccessDecision::Allow,
                        "{citizen:?} / {action:?} / {resource:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn without_the_second_factor_a_member_is_a_citizen_who_may_enrol() {
        let anonymous = Actor::anonymous();
        let pending = actor("nf");
        for (key, target) in targets() {
            let resource = target.resolve("nf");
            for &action in Action::ALL {
                let expected = match (&target, action) {
                    (Target::OwnUser, Action::EnrolSecondFactor) => AccessDecision::Allow,
                    _ => authorize(&anonymous, action, &resource),
                };
                assert_eq!(
                    authorize(&pending, action, &resource),
                    expected,
                    "{key} / {action:?}"
                );
            }
        }
        // Once past the second factor, the same login sees what its memberships allow.
        let passed = actor("nf").with_second_factor(true);
        assert!(authorize(&passed, Action::View, &meeting(council(), false)).is_allowed());
        assert!(
            authorize(&passed, Action::ChairMeeting, &meeting(committee(), false)).is_allowed()
        );
    }

    #[test]
    fn leaving_a_fraction_ends_access_to_its_notes_and_forum() {
        let shared = note("fa", NoteScope::Shared(fraction_a().id));
        let forum = Resource::Forum {
            organization: fraction_a().id,
        };
        let current = actor("fa");
        assert!(authorize(&current, Action::View, &shared).is_allowed());
        assert!(authorize(&current, Action::Post, &forum).is_allowed());
        // The caller passes only memberships active today: the fraction membership is gone.
        let former = member("fa", vec![council_member()]);
        for &action in Action::ALL {
            assert_eq!(
                authorize(&former, action, &shared),
                AccessDecision::NotFound
            );
            assert_eq!(authorize(&former, action, &forum), AccessDecision::NotFound);
        }
        // Their private notes stay theirs.
        assert!(authorize(&former, Action::View, &note("fa", NoteScope::Private)).is_allowed());
    }

    #[test]
    fn whoever_may_act_may_also_view() {
        for code in ACTORS.iter().filter(|code| **code != "nf") {
            let actor = actor(code);
            for (key, target) in targets() {
                let resource = target.resolve(code);
                for &action in Action::ALL {
                    if authorize(&actor, action, &resource).is_allowed() {
                        assert!(
                            authorize(&actor, Action::View, &resource).is_allowed(),
                            "{code} may {action:?} but not view {key}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn forbidden_is_only_ever_told_to_someone_who_may_view() {
        // For a ballot, "may view" means: may view its poll.
        for code in ACTORS {
            let actor = actor(code);
            for (key, target) in targets() {
                let resource = target.resolve(code);
                let visible = match &resource {
                    Resource::Ballot {
                        organization,
                        item_public,
                        secret,
                        ..
                    } => &poll(*organization, *item_public, *secret),
                    other => other,
                };
                for &action in Action::ALL {
                    if authorize(&actor, action, &resource) == AccessDecision::Forbidden {
                        assert!(
                            authorize(&actor, Action::View, visible).is_allowed(),
                            "{code} is told {key} exists"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn actor_membership_is_taken_from_a_stored_membership() {
        let stored = Membership {
            id: crate::MembershipId::new(),
            meta: crate::Meta::default(),
            person_id: person("cm"),
            organization_id: committee().id,
            role: MembershipRole::DeputyChair,
            voting_right: true,
            start_date: None,
            end_date: None,
        };
        let membership = ActorMembership::from_membership(&stored, OrganizationKind::Committee);
        assert_eq!(
            membership,
            self::membership(committee(), MembershipRole::DeputyChair, true)
        );
    }
}
