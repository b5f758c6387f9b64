//! The ballot boxes of open secret polls (and elections).
//!
//! A secret ballot never reaches the database. Each open secret poll has one small file in a
//! directory on a memory file system (tmpfs, e.g. `/dev/shm`): who has cast a ballot (a sorted
//! set) and how many ballots there are for each choice (a multiset, so no order at all). Every
//! committed batch of ballots replaces the whole file atomically (write a new file, rename it
//! over the old one). At any single moment there is therefore exactly one version of the box,
//! and it says how many ballots each choice got and who took part — never who cast which
//! ballot. Earlier versions are not kept anywhere a later copy could find them: tmpfs has no
//! journal, and the database holds no ballot at all (so neither its row order, nor its WAL, nor
//! dead row versions can link a ballot to the participation written beside it).
//!
//! The file is written before the database commit that records the participations, so a ballot
//! is acknowledged only once both are in place; a process that dies in between leaves a box
//! with voters the database does not know yet, and the meeting actor rolls those forward when it
//! starts again (see `actor.rs`). A box survives a crash of the process, but not a restart of
//! the machine (tmpfs is memory): the poll then cannot be counted and the chair repeats it.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use plenum_domain::{BallotChoice, PersonId, PollId};
use serde::{Deserialize, Serialize};

/// The content of one poll's box.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BallotBox {
    /// Who has cast a ballot, sorted.
    pub voters: BTreeSet<PersonId>,
    /// How many ballots each choice got (the choice as its JSON text), sorted by choice.
    pub counts: BTreeMap<String, u32>,
}

impl BallotBox {
    /// Adds one ballot. False (and nothing changed) if the voter has one in the box already.
    pub fn cast(&mut self, voter: PersonId, choice: &BallotChoice) -> bool {
        if !self.voters.insert(voter) {
            return false;
        }
        let key = serde_json::to_string(choice).unwrap_or_default();
        *self.counts.entry(key).or_insert(0) += 1;
        true
    }

    /// Every ballot in the box, in the order of the choices (never the order they were cast).
    pub fn ballots(&self) -> Result<Vec<BallotChoice>, serde_json::Error> {
        let mut ballots = Vec::new();
        for (choice, count) in &self.counts {
            let choice: BallotChoice = serde_json::from_str(choice)?;
            ballots.extend(std::iter::repeat_n(choice, *count as usize));
        }
        Ok(ballots)
    }

    /// How many ballots the box holds.
    pub fn len(&self) -> usize {
        self.counts.values().map(|c| *c as usize).sum()
    }

    /// Whether the box holds no ballot.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where the boxes live, and whether that place keeps no history.
#[derive(Debug, Clone)]
pub struct BallotBoxes {
    dir: PathBuf,
}

impl BallotBoxes {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// The directory of the boxes.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, poll: PollId) -> PathBuf {
        self.dir.join(format!("{poll}.box"))
    }

    /// The poll's box, `None` if there is none (never opened here, or lost with the machine's
    /// memory).
    pub fn load(&self, poll: PollId) -> std::io::Result<Option<BallotBox>> {
        match fs::read(self.path(poll)) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(std::io::Error::other),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Replaces the poll's box as a whole: a reader (or a copy of the directory) sees the old
    /// version or the new one, never both and never a mix.
    pub fn store(&self, poll: PollId, ballot_box: &BallotBox) -> std::io::Result<()> {
        create_private_dir(&self.dir)?;
        let json = serde_json::to_vec(ballot_box).map_err(std::io::Error::other)?;
        let temporary = self.dir.join(format!("{poll}.box.new"));
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&temporary)?;
        file.write_all(&json)?;
        // A no-op on tmpfs; where the boxes were configured onto a disk it makes them durable.
        file.sync_all()?;
        drop(file);
        fs::rename(&temporary, self.path(poll))?;
        if let Ok(dir) = fs::File::open(&self.dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    /// Removes the poll's box (its tally is durable, or the poll was cancelled).
    pub fn remove(&self, poll: PollId) -> std::io::Result<()> {
        match fs::remove_file(self.path(poll)) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err),
            _ => Ok(()),
        }
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Whether `path` lies on a memory file system (tmpfs or ramfs), judged from `/proc/mounts`:
/// the mount point that is the longest prefix of the path decides. `None` where that cannot be
/// told (no `/proc`).
pub fn on_memory_fs(path: &Path) -> Option<bool> {
    let mounts = fs::read_to_string("/proc/mounts").ok()?;
    let path = path
        .ancestors()
        .find_map(|p| p.canonicalize().ok())
        .unwrap_or_else(|| path.to_owned());
    let mut best: Option<(usize, bool)> = None;
    for line in mounts.lines() {
        let mut fields = line.split_whitespace();
        let (Some(_), Some(point), Some(kind)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        // /proc/mounts escapes spaces in mount points as \040.
        let point = point.replace("\\040", " ");
        if path.starts_with(&point) && best.is_none_or(|(len, _)| point.len() >= len) {
            best = Some((point.len(), matches!(kind, "tmpfs" | "ramfs")));
        }
    }
    best.map(|(_, memory)| memory)
}

#[cfg(test)]
mod tests {
    use super::*;
    use plenum_domain::Choice;

    fn person(n: u128) -> PersonId {
        PersonId::from_uuid(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn a_box_keeps_counts_and_voters_but_no_order() {
        let yes = BallotChoice::Choice(Choice::Yes);
        let no = BallotChoice::Choice(Choice::No);
        let mut one = BallotBox::default();
        assert!(one.cast(person(1), &yes));
        assert!(one.cast(person(2), &no));
        assert!(one.cast(person(3), &yes));
        let mut other = BallotBox::default();
        assert!(other.cast(person(3), &no));
        assert!(other.cast(person(2), &yes));
        assert!(other.cast(person(1), &yes));
        // The same ballots cast in another order by other voters give the same bytes.
        assert_eq!(
            serde_json::to_vec(&one).unwrap(),
            serde_json::to_vec(&other).unwrap()
        );
        assert!(!one.cast(person(1), &no), "a second ballot of one voter");
        assert_eq!(one.len(), 3);
        assert_eq!(
            one.ballots().unwrap(),
            vec![no, yes, yes],
            "in the order of the choices"
        );
    }

    #[test]
    fn storing_replaces_the_whole_box() {
        let dir = tempfile::tempdir().unwrap();
        let boxes = BallotBoxes::new(dir.path().join("boxes"));
        let poll = PollId::from_uuid(uuid::Uuid::from_u128(7));
        assert_eq!(boxes.load(poll).unwrap(), None);
        let mut content = BallotBox::default();
        boxes.store(poll, &content).unwrap();
        content.cast(person(1), &BallotChoice::Candidate(2));
        boxes.store(poll, &content).unwrap();
        assert_eq!(boxes.load(poll).unwrap(), Some(content));
        let names: Vec<_> = fs::read_dir(boxes.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "one file, no leftovers: {names:?}");
        boxes.remove(poll).unwrap();
        assert_eq!(boxes.load(poll).unwrap(), None);
    }

    #[test]
    fn dev_shm_counts_as_memory() {
        if Path::new("/dev/shm").is_dir() {
            assert_eq!(on_memory_fs(Path::new("/dev/shm/plenum-test")), Some(true));
        }
    }
}
