//! Manifest and index documents (`airlock::layout::model::Document`): parse, then read them the
//! way the graph walk does.
#![no_main]
use airlock::digest::Digest;
use airlock::layout::model::{self, Document};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = Document::parse(data) else {
        return;
    };
    let _ = doc.shape();
    let _ = doc.effective_artifact_type();
    if let Some(mt) = &doc.media_type {
        let _ = (model::kind_of(mt), model::is_json(mt));
    }
    for d in doc.children().chain(doc.subject.iter()) {
        let _ = (
            model::kind_of(d.media_type()),
            d.is_foreign(),
            d.reference(),
        );
        let _ = d.platform.as_ref().map(model::Platform::render);
        if let Ok(digest) = Digest::parse(&d.digest) {
            let _ = airlock::layout::blob_path(&digest);
        }
    }
});
