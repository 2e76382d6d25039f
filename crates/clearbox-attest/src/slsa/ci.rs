//! The CI job a provenance statement is written in, from the environment variables GitHub
//! Actions and GitLab CI set for every job:
//!
//! | field | GitHub Actions | GitLab CI |
//! |---|---|---|
//! | detected by | `GITHUB_RUN_ID` | `CI_JOB_ID` |
//! | `invocationId` | `$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID/attempts/$GITHUB_RUN_ATTEMPT` | `CI_JOB_URL`, else `CI_JOB_ID` |
//! | `startedOn` | (none is set) | `CI_JOB_STARTED_AT` |
//! | repository URL | `$GITHUB_SERVER_URL/$GITHUB_REPOSITORY` | `CI_PROJECT_URL` |
//! | ref | `GITHUB_REF` | `refs/tags/$CI_COMMIT_TAG`, `refs/heads/$CI_COMMIT_BRANCH` or `CI_MERGE_REQUEST_REF_PATH` |
//! | commit | `GITHUB_SHA` | `CI_COMMIT_SHA` |
//!
//! The job's identifiers listed in [`GITHUB_PARAMETERS`] and [`GITLAB_PARAMETERS`] go into
//! `internalParameters.ci` as they are. Variables that are unset or empty are left out.

use std::collections::BTreeMap;

use tracing::warn;

use super::time::parse_rfc3339;

/// GitHub Actions variables copied into `internalParameters.ci`.
pub const GITHUB_PARAMETERS: [&str; 9] = [
    "GITHUB_EVENT_NAME",
    "GITHUB_REF",
    "GITHUB_REPOSITORY",
    "GITHUB_REPOSITORY_ID",
    "GITHUB_REPOSITORY_OWNER_ID",
    "GITHUB_RUN_ATTEMPT",
    "GITHUB_RUN_ID",
    "GITHUB_WORKFLOW_REF",
    "RUNNER_ENVIRONMENT",
];

/// GitLab CI variables copied into `internalParameters.ci`.
pub const GITLAB_PARAMETERS: [&str; 8] = [
    "CI_JOB_ID",
    "CI_JOB_NAME",
    "CI_PIPELINE_ID",
    "CI_PIPELINE_SOURCE",
    "CI_PROJECT_ID",
    "CI_PROJECT_PATH",
    "CI_RUNNER_ID",
    "CI_SERVER_URL",
];

/// The CI service a job runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CiProvider {
    /// GitHub Actions.
    GitHubActions,
    /// GitLab CI/CD.
    GitLabCi,
}

impl CiProvider {
    /// Returns the name written to `internalParameters.ci.provider`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            CiProvider::GitHubActions => "github-actions",
            CiProvider::GitLabCi => "gitlab-ci",
        }
    }
}

/// A CI job as its environment variables describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiJob {
    /// The service.
    pub provider: CiProvider,
    /// A URL or identifier of this run of the job.
    pub invocation_id: Option<String>,
    /// When the job started, RFC 3339 in UTC.
    pub started_on: Option<String>,
    /// The repository URL the job was started for.
    pub repository: Option<String>,
    /// The full ref the job was started for.
    pub git_ref: Option<String>,
    /// The commit the job was started for.
    pub commit: Option<String>,
    /// The job's identifiers, by variable name.
    pub parameters: BTreeMap<String, String>,
}

impl CiJob {
    /// Reads the job from environment variables through `lookup` (for the process,
    /// `|name| std::env::var(name).ok()`); `None` outside GitHub Actions and GitLab CI.
    pub fn detect(lookup: impl Fn(&str) -> Option<String>) -> Option<CiJob> {
        let get = |name: &str| lookup(name).filter(|value| !value.is_empty());
        if get("GITHUB_RUN_ID").is_some() {
            return Some(github(&get));
        }
        if get("CI_JOB_ID").is_some() {
            return Some(gitlab(&get));
        }
        None
    }
}

fn parameters(names: &[&str], get: &dyn Fn(&str) -> Option<String>) -> BTreeMap<String, String> {
    names
        .iter()
        .filter_map(|name| get(name).map(|value| ((*name).to_owned(), value)))
        .collect()
}

fn github(get: &dyn Fn(&str) -> Option<String>) -> CiJob {
    let repository = match (get("GITHUB_SERVER_URL"), get("GITHUB_REPOSITORY")) {
        (Some(server), Some(repository)) => {
            Some(format!("{}/{repository}", server.trim_end_matches('/')))
        }
        _ => None,
    };
    let run = get("GITHUB_RUN_ID").unwrap_or_default();
    let invocation_id = match (&repository, get("GITHUB_RUN_ATTEMPT")) {
        (Some(repository), Some(attempt)) => {
            format!("{repository}/actions/runs/{run}/attempts/{attempt}")
        }
        (Some(repository), None) => format!("{repository}/actions/runs/{run}"),
        (None, _) => run,
    };
    CiJob {
        provider: CiProvider::GitHubActions,
        invocation_id: Some(invocation_id),
        started_on: None,
        repository,
        git_ref: get("GITHUB_REF"),
        commit: get("GITHUB_SHA"),
        parameters: parameters(&GITHUB_PARAMETERS, get),
    }
}

fn gitlab(get: &dyn Fn(&str) -> Option<String>) -> CiJob {
    let started_on = get("CI_JOB_STARTED_AT").and_then(|text| match parse_rfc3339(&text) {
        Ok(time) => Some(time),
        Err(error) => {
            warn!(%error, "CI_JOB_STARTED_AT is not recorded as startedOn");
            None
        }
    });
    let git_ref = get("CI_COMMIT_TAG")
        .map(|tag| format!("refs/tags/{tag}"))
        .or_else(|| get("CI_COMMIT_BRANCH").map(|branch| format!("refs/heads/{branch}")))
        .or_else(|| get("CI_MERGE_REQUEST_REF_PATH"));
    CiJob {
        provider: CiProvider::GitLabCi,
        invocation_id: get("CI_JOB_URL").or_else(|| get("CI_JOB_ID")),
        started_on,
        repository: get("CI_PROJECT_URL"),
        git_ref,
        commit: get("CI_COMMIT_SHA"),
        parameters: parameters(&GITLAB_PARAMETERS, get),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(vars: &[(&str, &str)]) -> Option<CiJob> {
        let vars: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        CiJob::detect(|name| vars.get(name).cloned())
    }

    #[test]
    fn github_actions() {
        let job = job(&[
            ("GITHUB_RUN_ID", "9116405766"),
            ("GITHUB_RUN_ATTEMPT", "2"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "acme/app"),
            ("GITHUB_REF", "refs/tags/v1.2.0"),
            ("GITHUB_SHA", "46e7056ff9912ebfee5298d94024895a9fea76c0"),
            ("GITHUB_EVENT_NAME", "push"),
            ("GITHUB_TOKEN", "not copied"),
        ])
        .unwrap();
        assert_eq!(job.provider, CiProvider::GitHubActions);
        assert_eq!(
            job.invocation_id.as_deref(),
            Some("https://github.com/acme/app/actions/runs/9116405766/attempts/2")
        );
        assert_eq!(
            job.repository.as_deref(),
            Some("https://github.com/acme/app")
        );
        assert_eq!(job.git_ref.as_deref(), Some("refs/tags/v1.2.0"));
        assert_eq!(job.started_on, None);
        assert_eq!(
            job.parameters.keys().collect::<Vec<_>>(),
            [
                "GITHUB_EVENT_NAME",
                "GITHUB_REF",
                "GITHUB_REPOSITORY",
                "GITHUB_RUN_ATTEMPT",
                "GITHUB_RUN_ID"
            ]
        );
    }

    #[test]
    fn gitlab_ci() {
        let job = job(&[
            ("CI_JOB_ID", "7046507"),
            (
                "CI_JOB_URL",
                "https://gitlab.example/acme/app/-/jobs/7046507",
            ),
            ("CI_JOB_STARTED_AT", "2024-03-01T10:00:05+01:00"),
            ("CI_PROJECT_URL", "https://gitlab.example/acme/app"),
            ("CI_COMMIT_BRANCH", "main"),
            ("CI_COMMIT_SHA", "0123456789abcdef0123456789abcdef01234567"),
            ("CI_PIPELINE_ID", "1234"),
        ])
        .unwrap();
        assert_eq!(job.provider, CiProvider::GitLabCi);
        assert_eq!(
            job.invocation_id.as_deref(),
            Some("https://gitlab.example/acme/app/-/jobs/7046507")
        );
        assert_eq!(job.started_on.as_deref(), Some("2024-03-01T09:00:05Z"));
        assert_eq!(job.git_ref.as_deref(), Some("refs/heads/main"));
        assert_eq!(
            job.parameters,
            BTreeMap::from([
                ("CI_JOB_ID".to_owned(), "7046507".to_owned()),
                ("CI_PIPELINE_ID".to_owned(), "1234".to_owned()),
            ])
        );
    }

    #[test]
    fn gitlab_tag_wins_and_bad_time_dropped() {
        let job = job(&[
            ("CI_JOB_ID", "1"),
            ("CI_COMMIT_TAG", "v2"),
            ("CI_COMMIT_BRANCH", "main"),
            ("CI_JOB_STARTED_AT", "yesterday"),
        ])
        .unwrap();
        assert_eq!(job.git_ref.as_deref(), Some("refs/tags/v2"));
        assert_eq!(job.invocation_id.as_deref(), Some("1"));
        assert_eq!(job.started_on, None);
    }

    #[test]
    fn no_ci() {
        assert_eq!(job(&[("CI", "true"), ("GITHUB_RUN_ID", "")]), None);
    }
}
