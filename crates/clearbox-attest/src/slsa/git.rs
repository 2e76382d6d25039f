//! Reading a git checkout for provenance with gix: the commit `HEAD` names, the ref it was
//! checked out at, the repository URL of the default remote, and whether the working tree
//! differs from the commit. Nothing runs `git`; nothing is written to the repository.
//!
//! The tree is dirty when a tracked file differs from `HEAD` (staged or not), or when a file
//! exists that is neither tracked nor ignored. Either can end up in an image built from the
//! directory while the commit does not contain it.

use std::path::{Path, PathBuf};

use tracing::debug;

/// At most this many changed paths are kept for the message that refuses a dirty tree.
const MAX_DIRTY_PATHS: usize = 10;

/// A checkout that cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GitError {
    /// No repository contains the directory.
    #[error("`{dir}` is not inside a git checkout: {reason}")]
    NotARepository {
        /// The directory given.
        dir: PathBuf,
        /// gix's reason.
        reason: String,
    },
    /// The repository has no working tree (a bare repository).
    #[error("`{dir}` is a bare repository; provenance needs the checkout the image was built from")]
    Bare {
        /// The directory given.
        dir: PathBuf,
    },
    /// `HEAD` names no commit yet.
    #[error("`HEAD` of `{dir}` names no commit: {reason}")]
    NoCommit {
        /// The directory given.
        dir: PathBuf,
        /// gix's reason.
        reason: String,
    },
    /// Reading refs, remotes or the status failed.
    #[error("cannot read the {what} of `{dir}`: {reason}")]
    Read {
        /// The part of the repository being read.
        what: &'static str,
        /// The directory given.
        dir: PathBuf,
        /// gix's reason.
        reason: String,
    },
}

/// The facts a git checkout records about the source of a build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitCheckout {
    /// The URL of the default remote (`branch.<name>.remote`, else `origin`, else the only
    /// remote), without user name or password, with `.git` and a trailing `/` removed, and
    /// scp-like `git@host:path` written as `ssh://host/path`. `None` when there is no remote.
    pub repository: Option<String>,
    /// The full name of the branch `HEAD` is on, such as `refs/heads/main`. `None` when `HEAD`
    /// is detached, as CI checkouts of tags and pull requests often are.
    pub head_ref: Option<String>,
    /// Tags that point at the `HEAD` commit (annotated tags peeled), full names, sorted.
    pub tags_at_head: Vec<String>,
    /// The `HEAD` commit, 40 lowercase hexadecimal digits.
    pub commit: String,
    /// Tracked files changed from `HEAD` and untracked files that are not ignored, at most
    /// ten; empty for a clean tree.
    pub dirty_paths: Vec<String>,
    /// True when the tree has more changed paths than `dirty_paths` lists.
    pub more_dirty_paths: bool,
}

impl GitCheckout {
    /// Reads the checkout that contains `dir`.
    pub fn read(dir: &Path) -> Result<Self, GitError> {
        // 1. The repository and its working tree.
        let repo = gix::discover(dir).map_err(|e| GitError::NotARepository {
            dir: dir.to_owned(),
            reason: e.to_string(),
        })?;
        if repo.workdir().is_none() {
            return Err(GitError::Bare {
                dir: dir.to_owned(),
            });
        }
        let read_error = |what: &'static str| {
            move |e: gix::Error| GitError::Read {
                what,
                dir: dir.to_owned(),
                reason: e.to_string(),
            }
        };

        // 2. The commit, and the branch or tags that name it.
        let commit = repo.head_id().map_err(|e| GitError::NoCommit {
            dir: dir.to_owned(),
            reason: e.to_string(),
        })?;
        let commit = commit.detach();
        let head_ref = repo
            .head_name()
            .map_err(read_error("HEAD"))?
            .map(|name| name.as_bstr().to_string());
        let tags_at_head = tags_pointing_at(&repo, commit).map_err(read_error("tags"))?;

        // 3. The repository URL.
        let repository = match repo.find_default_remote(gix::remote::Direction::Fetch) {
            None => None,
            Some(remote) => {
                let remote = remote.map_err(read_error("default remote"))?;
                remote
                    .url(gix::remote::Direction::Fetch)
                    .map(repository_url)
            }
        };

        // 4. The working tree against HEAD.
        let (dirty_paths, more_dirty_paths) =
            changed_paths(&repo).map_err(read_error("working tree status"))?;
        debug!(
            commit = %commit,
            head_ref = ?head_ref,
            repository = ?repository,
            dirty = !dirty_paths.is_empty(),
            "git checkout read"
        );
        Ok(GitCheckout {
            repository,
            head_ref,
            tags_at_head,
            commit: commit.to_string(),
            dirty_paths,
            more_dirty_paths,
        })
    }

    /// True when the working tree differs from the `HEAD` commit.
    #[must_use]
    pub fn is_dirty(&self) -> bool {
        !self.dirty_paths.is_empty()
    }
}

fn tags_pointing_at(repo: &gix::Repository, commit: gix::ObjectId) -> gix::Result<Vec<String>> {
    let mut tags = Vec::new();
    let references = repo.references()?;
    for reference in references.tags()? {
        let Ok(mut reference) = reference else {
            continue;
        };
        // A tag that cannot be peeled (a tag of a tree, a broken ref) names no commit.
        if reference.peel_to_id().is_ok_and(|id| id.detach() == commit) {
            tags.push(reference.name().as_bstr().to_string());
        }
    }
    tags.sort();
    Ok(tags)
}

fn changed_paths(repo: &gix::Repository) -> gix::Result<(Vec<String>, bool)> {
    let status = repo
        .status(gix::progress::Discard)?
        .untracked_files(gix::status::UntrackedFiles::Files)
        .into_iter(None)?;
    let mut paths = Vec::new();
    let mut more = false;
    for item in status {
        let item = item?;
        if paths.len() == MAX_DIRTY_PATHS {
            more = true;
            break;
        }
        paths.push(item.location().to_string());
    }
    paths.sort();
    Ok((paths, more))
}

/// Formats the remote URL as provenance records it: no credentials (CI checkouts often carry a
/// token in the URL), scp-like syntax as `ssh://`, and no `.git` suffix.
fn repository_url(url: &gix::Url) -> String {
    let path = url.path.to_string();
    let text = match url.host() {
        Some(host) => {
            let port = url.port.map(|port| format!(":{port}")).unwrap_or_default();
            let slash = if path.starts_with('/') { "" } else { "/" };
            format!("{}://{host}{port}{slash}{path}", url.scheme.as_str())
        }
        None => format!("{}://{path}", url.scheme.as_str()),
    };
    let text = text.trim_end_matches('/');
    text.strip_suffix(".git").unwrap_or(text).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> String {
        repository_url(&gix::Url::from_bytes(text.into()).unwrap())
    }

    #[test]
    fn credentials_removed() {
        assert_eq!(
            url("https://gitlab-ci-token:secret@gitlab.example/group/app.git"),
            "https://gitlab.example/group/app"
        );
        assert_eq!(
            url("https://user@github.com/acme/app/"),
            "https://github.com/acme/app"
        );
    }

    #[test]
    fn scp_like_becomes_ssh() {
        assert_eq!(
            url("git@github.com:acme/app.git"),
            "ssh://github.com/acme/app"
        );
        assert_eq!(
            url("ssh://git@git.example:2222/acme/app.git"),
            "ssh://git.example:2222/acme/app"
        );
    }

    #[test]
    fn local_paths_kept() {
        assert_eq!(url("/srv/git/app.git"), "file:///srv/git/app");
    }
}
