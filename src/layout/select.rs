//! Image selection: which `index.json` entries an operator's `--image`/reference names. `verify`,
//! `export` (local sources), `import` and `sign` all select through [`selects`].

use super::model::{self, Descriptor};

/// The tag part of a reference: after the last `:` that follows the last `/` (the whole reference
/// when it has none).
fn tag_part(reference: &str) -> &str {
    let last_slash = reference.rfind('/').map_or(0, |i| i + 1);
    match reference.get(last_slash..).and_then(|tail| tail.rfind(':')) {
        Some(i) => reference.get(last_slash + i + 1..).unwrap_or(reference),
        None => reference,
    }
}

/// True when `sel` names the index.json entry `desc`: full name, tag part, or digest.
pub fn selects(sel: &str, desc: &Descriptor) -> bool {
    if sel == desc.digest {
        return true;
    }
    [model::REF_NAME, model::CONTAINERD_NAME]
        .iter()
        .filter_map(|k| desc.annotations.get(*k))
        .any(|name| name == sel || tag_part(name) == sel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tag_part_follows_the_last_slash() {
        assert_eq!(tag_part("registry:5000/app:1.0"), "1.0");
        assert_eq!(tag_part("registry:5000/app"), "registry:5000/app");
        assert_eq!(tag_part("app"), "app");
    }
}
