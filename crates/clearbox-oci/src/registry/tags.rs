//! Listing tags (`GET /v2/<name>/tags/list`) and repositories (`GET /v2/_catalog`), page by
//! page: `?n=<page size>`, then each `Link: <…>; rel="next"` until there is none.
//!
//! distribution 2.8 ignores `n` on tag lists and returns every tag at once, in no particular
//! order; it does paginate the catalog.

use std::collections::HashSet;

use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;

use crate::error::OciError;
use crate::reference::RegistryReference;
use crate::registry::RegistryClient;
use crate::registry::auth::repository_scope;
use crate::registry::transport::{Context, Request, expect_status, next_link, read_limited};

/// Pages followed at most, which bounds a registry whose `Link` headers loop.
const MAX_PAGES: usize = 10_000;

#[derive(Deserialize)]
struct TagList {
    // distribution sends `null` for a repository without tags.
    #[serde(default)]
    tags: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct Catalog {
    #[serde(default)]
    repositories: Option<Vec<String>>,
}

impl RegistryClient {
    /// Lists every tag of the reference's repository, in the registry's order. With a
    /// `page_size`, requests pages of that many tags and follows the `Link` headers. A
    /// registry that ignores the page size returns everything at once.
    pub fn list_tags(
        &self,
        repository: &RegistryReference,
        page_size: Option<usize>,
    ) -> Result<Vec<String>, OciError> {
        let context = Context {
            registry: &repository.registry,
            subject: repository.repository.clone(),
            action: "list tags of",
        };
        let path = format!("{}/tags/list", repository.repository);
        let scopes = vec![repository_scope(&repository.repository, "pull")];
        self.collect_pages(&path, page_size, &scopes, &context, |page: TagList| {
            page.tags.unwrap_or_default()
        })
    }

    /// Lists the repositories of a registry (`HOST[:PORT]`), following pagination as
    /// [`list_tags`](Self::list_tags) does. Many public registries disable this endpoint.
    pub fn list_repositories(
        &self,
        registry: &str,
        page_size: Option<usize>,
    ) -> Result<Vec<String>, OciError> {
        let context = Context {
            registry,
            subject: "_catalog".into(),
            action: "list repositories in",
        };
        let scopes = vec!["registry:catalog:*".to_owned()];
        self.collect_pages("_catalog", page_size, &scopes, &context, |page: Catalog| {
            page.repositories.unwrap_or_default()
        })
    }

    /// Fetches `path` and every page its `Link` headers lead to, concatenating the lists.
    fn collect_pages<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        page_size: Option<usize>,
        scopes: &[String],
        context: &Context,
        items: impl Fn(T) -> Vec<String>,
    ) -> Result<Vec<String>, OciError> {
        let mut url: Url = self
            .url(context.registry, path)
            .map_err(|p| context.error(p))?;
        if let Some(n) = page_size {
            url.query_pairs_mut().append_pair("n", &n.to_string());
        }
        let mut all = Vec::new();
        let mut seen = HashSet::new();
        for _ in 0..MAX_PAGES {
            let request = Request::new(Method::GET, url.clone(), scopes.to_vec());
            let response = self.send(&request, context)?;
            let response = expect_status(response, &[StatusCode::OK], context)?;
            let next = next_link(&response);
            let bytes = read_limited(response, self.options.max_manifest_bytes, context)?;
            let page: T = serde_json::from_slice(&bytes)
                .map_err(|e| OciError::json(format!("list page of {}", context.subject), e))?;
            all.extend(items(page));
            seen.insert(url.to_string());
            match next {
                Some(next) if !seen.contains(next.as_str()) => url = next,
                _ => return Ok(all),
            }
        }
        Ok(all)
    }
}
