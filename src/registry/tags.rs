//! Tag listing (`GET /v2/<name>/tags/list`), every `Link` page, bounded.

use reqwest::StatusCode;
use serde::Deserialize;

use super::pull::next_link;
use super::transport::{read_capped, Fail};
use super::{Reference, Registry, RegistryError, MAX_MANIFEST};

/// Most pages of a tag list followed.
const MAX_TAG_PAGES: usize = 64;

/// Tags asked for per page.
const PAGE: usize = 1000;

#[derive(Deserialize)]
struct TagList {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

impl Registry {
    /// The tags of `repo`'s repository, in the registry's order, every page followed (at most
    /// 64 pages on the registry's own host). A repository the registry does not know is
    /// [`RegistryError::NotFound`].
    pub fn tags(&self, repo: &Reference) -> Result<Vec<String>, RegistryError> {
        let what = format!("tags of {}", repo.repo_name());
        self.retrying(&what, || self.tags_once(repo))
    }

    async fn tags_once(&self, r: &Reference) -> Result<Vec<String>, Fail> {
        let first = format!("{}/v2/{}/tags/list?n={PAGE}", self.base(r), r.repository());
        let mut url = reqwest::Url::parse(&first).map_err(|e| RegistryError::Protocol {
            url: first.clone(),
            reason: e.to_string(),
        })?;
        let origin = url.origin();
        let mut out = Vec::new();
        for _ in 0..MAX_TAG_PAGES {
            let u = url.to_string();
            let resp = self.send(r, &u, |c| c.get(url.clone())).await?;
            if resp.status() != StatusCode::OK {
                return Err(self.status_fail(r, &u, resp).await);
            }
            let next = next_link(resp.headers());
            let bytes = read_capped(resp, MAX_MANIFEST, &u).await?;
            let list: TagList =
                serde_json::from_slice(&bytes).map_err(|e| RegistryError::Protocol {
                    url: u.clone(),
                    reason: format!("not a tag list: {e}"),
                })?;
            out.extend(list.tags.unwrap_or_default());
            let Some(next) = next else {
                return Ok(out);
            };
            let n = url.join(&next).map_err(|e| RegistryError::Protocol {
                url: u.clone(),
                reason: format!("Link {:?}: {e}", super::error::clip(&next, 200)),
            })?;
            if n.origin() != origin {
                return Err(Fail::Fatal(RegistryError::Protocol {
                    url: u,
                    reason: format!("the next tags page is on another host: {n}"),
                }));
            }
            url = n;
        }
        Err(Fail::Fatal(RegistryError::Protocol {
            url: first,
            reason: format!("more than {MAX_TAG_PAGES} pages of tags"),
        }))
    }
}
