//! Compliance frameworks as data, and how a control's status follows from the checks behind it.
//!
//! Each framework is a YAML file in `crates/clearbox-policy/frameworks/`, compiled into the
//! binary: its controls, the article, function or section each one cites, the ids of the checks
//! that evidence it, and for a control that no check can evidence, the reason. Loading validates
//! every file: unique control ids, known check ids, and either checks or a reason, never both.
//!
//! A control's status is computed from the checks that ran ([`evaluate`]):
//!
//! 1. no checks: not evidenced, with the file's reason;
//! 2. any check failed: not satisfied;
//! 3. any check did not run, or none applied: not evidenced, naming the checks and why;
//! 4. otherwise every check passed (some may not apply): satisfied.
//!
//! A satisfied control means that the evidence clearbox collects for it is present and passes,
//! within the control's stated `scope`. It is not a finding of conformity with the cited text.
//! `docs/compliance.md` explains the files and how to review them.

mod checks;
mod framework;
mod status;

pub use checks::{EVIDENCE_CHECKS, EvidenceCheck, IMAGE_CHECKS, is_known_check, k8s_checks};
pub use framework::{Control, Framework, FrameworkError, FrameworkId};
pub use status::{CheckRun, CheckStatus, ControlOutcome, ControlStatus, evaluate};
