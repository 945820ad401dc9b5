//! Referrers: the Referrers API (every `Link` page, same origin only), and on 404 the referrers
//! tag schema (`<alg>-<hex>`).

use reqwest::header::ACCEPT as ACCEPT_HEADER;
use reqwest::StatusCode;

use super::super::transport::{read_capped, Fail};
use super::super::{Reference, Registry, RegistryError, MAX_MANIFEST};
use super::next_link;
use crate::digest::Digest;
use crate::layout::model::{self, Descriptor, Document, Kind};

/// Most pages of a paginated Referrers API answer followed.
const MAX_REFERRER_PAGES: usize = 64;

/// Most referrers listed for one subject (export takes at most as many per image,
/// `export::MAX_REFERRERS`): a registry that lists more is refused while the pages are read, before
/// they pile up.
const MAX_LISTED_REFERRERS: usize = 1024;

/// Most bytes of Referrers API pages read for one subject: four full pages of the manifest limit.
const MAX_REFERRER_BYTES: u64 = 4 * MAX_MANIFEST;

fn too_many(url: String) -> RegistryError {
    RegistryError::Protocol {
        url,
        reason: format!(
            "more than {MAX_LISTED_REFERRERS} referrers (or {MAX_REFERRER_BYTES} bytes of \
             Referrers API pages) for one subject: not read further"
        ),
    }
}

impl Registry {
    /// The manifests whose `subject` is `digest` in `repo`'s repository, as descriptors (with
    /// `artifactType`), optionally only those of `artifact_type`.
    ///
    /// Asks the Referrers API (`GET /v2/<name>/referrers/<digest>`, every `Link` page); when the
    /// registry answers 404 (it has no such API, like distribution 2.8), reads the referrers tag
    /// schema index (`<alg>-<hex>`) instead, which may not exist (no referrers). The artifact type
    /// filter is applied here in both cases, whatever the registry did with it.
    pub fn referrers(
        &self,
        repo: &Reference,
        digest: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>, RegistryError> {
        let what = format!("referrers of {digest} in {}", repo.repo_name());
        let mut all = match self.retrying(&what, || self.referrers_api(repo, digest, artifact_type))
        {
            Ok(v) => v,
            Err(RegistryError::NotFound { .. }) => {
                let tag = crate::layout::referrers_tag(digest);
                let what = format!("referrers tag {tag} of {}", repo.repo_name());
                match self.retrying(&what, || {
                    self.get_manifest(repo, &tag, None, &[model::OCI_INDEX])
                }) {
                    Ok((desc, bytes)) => {
                        let url = format!(
                            "{}/v2/{}/manifests/{tag}",
                            self.base(repo),
                            repo.repository()
                        );
                        if model::kind_of(desc.media_type()) != Kind::Index {
                            return Err(RegistryError::Protocol {
                                url,
                                reason: format!(
                                    "the referrers tag holds a {}, not an index",
                                    desc.media_type()
                                ),
                            });
                        }
                        let listed = Document::parse(&bytes)
                            .ok()
                            .and_then(|d| d.manifests)
                            .unwrap_or_default();
                        if listed.len() > MAX_LISTED_REFERRERS {
                            return Err(too_many(url));
                        }
                        listed
                    }
                    Err(RegistryError::NotFound { .. }) => Vec::new(),
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
        if let Some(at) = artifact_type {
            all.retain(|d| d.artifact_type.as_deref() == Some(at));
        }
        Ok(all)
    }

    async fn referrers_api(
        &self,
        r: &Reference,
        digest: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>, Fail> {
        let first = format!("{}/v2/{}/referrers/{digest}", self.base(r), r.repository());
        let mut url = reqwest::Url::parse(&first).map_err(|e| RegistryError::Protocol {
            url: first.clone(),
            reason: e.to_string(),
        })?;
        if let Some(at) = artifact_type {
            url.query_pairs_mut().append_pair("artifactType", at);
        }
        let origin = url.origin();
        let mut out = Vec::new();
        let mut read = 0u64;
        for _ in 0..MAX_REFERRER_PAGES {
            let u = url.to_string();
            let resp = self
                .send(r, &u, |c| {
                    c.get(url.clone()).header(ACCEPT_HEADER, model::OCI_INDEX)
                })
                .await?;
            if resp.status() != StatusCode::OK {
                return Err(self.status_fail(r, &u, resp).await);
            }
            let next = next_link(resp.headers());
            let bytes = read_capped(resp, MAX_MANIFEST, &u).await?;
            read = read.saturating_add(u64::try_from(bytes.len()).unwrap_or(u64::MAX));
            if read > MAX_REFERRER_BYTES {
                return Err(Fail::Fatal(too_many(u)));
            }
            let doc = Document::parse(&bytes).map_err(|e| RegistryError::Protocol {
                url: u.clone(),
                reason: format!("the Referrers API answered something that is not an index: {e}"),
            })?;
            let Some(list) = doc.manifests else {
                return Err(Fail::Fatal(RegistryError::Protocol {
                    url: u,
                    reason: "the Referrers API answered something that is not an index".into(),
                }));
            };
            if out.len().saturating_add(list.len()) > MAX_LISTED_REFERRERS {
                return Err(Fail::Fatal(too_many(u)));
            }
            out.extend(list);
            let Some(next) = next else {
                return Ok(out);
            };
            let n = url.join(&next).map_err(|e| RegistryError::Protocol {
                url: u.clone(),
                reason: format!("Link {:?}: {e}", super::super::error::clip(&next, 200)),
            })?;
            if n.origin() != origin {
                return Err(Fail::Fatal(RegistryError::Protocol {
                    url: u,
                    reason: format!("the next referrers page is on another host: {n}"),
                }));
            }
            url = n;
        }
        Err(Fail::Fatal(RegistryError::Protocol {
            url: first,
            reason: format!("more than {MAX_REFERRER_PAGES} pages of referrers"),
        }))
    }
}
