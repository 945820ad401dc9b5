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

/// Most tags [`Registry::tags`] lists: as many as 64 full pages of 1,000 hold. A registry that
/// answers more (whatever its page size) is refused while the pages are read, before they pile up.
pub const MAX_TAGS: usize = MAX_TAG_PAGES * PAGE;

/// Most bytes of tag names kept: [`MAX_TAGS`] tags of 128 characters (the distribution-spec
/// longest), so a few long tags cannot hold more memory than many short ones.
const MAX_TAG_BYTES: usize = MAX_TAGS * 128;

/// What [`Registry::tags_upto`] lists.
#[derive(Debug, Default)]
pub struct Tags {
    /// The tags, in the registry's order, at most the number asked for.
    pub tags: Vec<String>,
    /// The registry lists more than those (the rest was not read).
    pub more: bool,
}

#[derive(Deserialize)]
struct TagList {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

impl Registry {
    /// The tags of `repo`'s repository, in the registry's order, every page followed (at most
    /// 64 pages on the registry's own host). A repository the registry does not know is
    /// [`RegistryError::NotFound`].
    ///
    /// More than [`MAX_TAGS`] tags, or more than 8000 KiB of tag names, is an error, raised as
    /// soon as the pages read exceed it.
    pub fn tags(&self, repo: &Reference) -> Result<Vec<String>, RegistryError> {
        let listed = self.tags_upto(repo, MAX_TAGS)?;
        if listed.more {
            let url = format!("{}/v2/{}/tags/list", self.base(repo), repo.repository());
            return Err(RegistryError::Protocol {
                url,
                reason: format!(
                    "more than {MAX_TAGS} tags (or {MAX_TAG_BYTES} bytes of tag names): not read \
                     further"
                ),
            });
        }
        Ok(listed.tags)
    }

    /// The first `max` tags of `repo`'s repository (at most [`MAX_TAGS`]), pages read only until
    /// there are more than that ([`Tags::more`]); more than 8000 KiB of tag names counts as more
    /// too. Memory is one page plus the tags kept.
    pub fn tags_upto(&self, repo: &Reference, max: usize) -> Result<Tags, RegistryError> {
        let what = format!("tags of {}", repo.repo_name());
        let max = max.min(MAX_TAGS);
        self.retrying(&what, || self.tags_once(repo, max))
    }

    async fn tags_once(&self, r: &Reference, max: usize) -> Result<Tags, Fail> {
        let first = format!("{}/v2/{}/tags/list?n={PAGE}", self.base(r), r.repository());
        let mut url = reqwest::Url::parse(&first).map_err(|e| RegistryError::Protocol {
            url: first.clone(),
            reason: e.to_string(),
        })?;
        let origin = url.origin();
        let mut out = Vec::new();
        let mut bytes_kept = 0usize;
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
            for tag in list.tags.unwrap_or_default() {
                bytes_kept = bytes_kept.saturating_add(tag.len());
                if out.len() >= max || bytes_kept > MAX_TAG_BYTES {
                    return Ok(Tags {
                        tags: out,
                        more: true,
                    });
                }
                out.push(tag);
            }
            let Some(next) = next else {
                return Ok(Tags {
                    tags: out,
                    more: false,
                });
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
