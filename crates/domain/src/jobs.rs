//! The states of a background job (`import_job.status`: roster imports, dossiers), one
//! code each, stored as text.

use serde::{Deserialize, Serialize};

use crate::org::coded_enum;

coded_enum!(
    /// queued → running (claimed by one process) → done or failed.
    JobStatus {
        Queued => "queued",
        Running => "running",
        Done => "done",
        Failed => "failed",
    }
);

impl JobStatus {
    /// Whether the job has ended, one way or the other.
    pub fn is_final(self) -> bool {
        matches!(self, JobStatus::Done | JobStatus::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for s in JobStatus::ALL {
            assert_eq!(JobStatus::from_code(s.code()), Some(*s));
        }
        assert_eq!(JobStatus::from_code("finished"), None);
        assert!(JobStatus::Failed.is_final() && !JobStatus::Running.is_final());
    }
}
