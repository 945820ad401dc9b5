//! The man pages under `man/` are generated from the clap definition; this test fails when they are
//! stale. `AIRLOCK_UPDATE_MAN=1 cargo test --test integration man` (or `scripts/gen-man.sh`)
//! rewrites them.

use std::path::Path;

use clap::CommandFactory;

fn render(cmd: clap::Command) -> Vec<u8> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut out)
        .expect("render man page");
    out
}

#[test]
fn man_pages_are_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let root = airlock::cli::Cli::command().name("airlock");
    let mut pages = vec![("airlock.1".to_string(), render(root.clone()))];
    for sub in root.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("airlock-{}", sub.get_name());
        let static_name: &'static str = Box::leak(name.clone().into_boxed_str());
        let cmd = sub
            .clone()
            .name(static_name)
            .version(env!("CARGO_PKG_VERSION"));
        pages.push((format!("{name}.1"), render(cmd)));
    }
    let update = std::env::var_os("AIRLOCK_UPDATE_MAN").is_some();
    let mut stale = Vec::new();
    for (file, bytes) in &pages {
        let path = dir.join(file);
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, bytes).unwrap();
        } else if std::fs::read(&path).ok().as_deref() != Some(&bytes[..]) {
            stale.push(file.clone());
        }
    }
    assert!(
        stale.is_empty(),
        "stale man pages {stale:?}: run scripts/gen-man.sh and commit man/"
    );
    assert!(pages.iter().any(|(f, _)| f == "airlock-verify.1"));
    assert!(pages.iter().any(|(f, _)| f == "airlock-inspect.1"));
    assert!(pages.iter().any(|(f, _)| f == "airlock-sign.1"));
}
