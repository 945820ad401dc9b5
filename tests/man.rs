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

/// The shipped completion scripts under `completions/` are what `airlock completions SHELL` prints,
/// generated from the same clap definition; this fails when they are stale (`scripts/gen-man.sh`
/// rewrites them with the man pages).
#[test]
fn completion_scripts_are_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    let update = std::env::var_os("AIRLOCK_UPDATE_MAN").is_some();
    let mut stale = Vec::new();
    for shell in airlock::cli::Shell::ALL {
        let bytes = airlock::cli::completion_script(shell);
        let text = String::from_utf8(bytes.clone()).expect("completion script is UTF-8");
        // Every public subcommand and a few of their options are completed.
        for word in [
            "verify",
            "export",
            "inspect",
            "sign",
            "completions",
            "trust-policy",
        ] {
            assert!(text.contains(word), "{shell:?} script lacks {word}");
        }
        let path = dir.join(shell.file_name());
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &bytes).unwrap();
        } else if std::fs::read(&path).ok().as_deref() != Some(&bytes[..]) {
            stale.push(shell.file_name());
        }
    }
    assert!(
        stale.is_empty(),
        "stale completion scripts {stale:?}: run scripts/gen-man.sh and commit completions/"
    );
}

/// The CLI prints exactly the shipped script, and bash accepts it.
#[test]
fn completions_command_prints_the_shipped_script() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(["completions", "bash"])
        .output()
        .expect("run airlock completions bash");
    assert!(out.status.success());
    assert_eq!(
        out.stdout,
        airlock::cli::completion_script(airlock::cli::Shell::Bash)
    );
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("airlock.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .status()
        .expect("bash -n");
    assert!(check.success(), "bash rejects the completion script");
    // Sourcing it registers the completion function for `airlock`.
    let registered = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && complete -p airlock",
            script.display()
        ))
        .output()
        .expect("bash -c source");
    assert!(
        String::from_utf8_lossy(&registered.stdout).contains("airlock"),
        "complete -p airlock after sourcing: {}",
        String::from_utf8_lossy(&registered.stderr)
    );
    // And completes: `airlock ver<TAB>` offers verify, `airlock verify --trust-p<TAB>` the option.
    for (words, cword, want) in [
        ("airlock ver", 1, "verify"),
        ("airlock verify --trust-p", 2, "--trust-policy"),
    ] {
        let cur = words.rsplit(' ').next().unwrap();
        let prev = words.split(' ').nth(cword - 1).unwrap();
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "source {}; COMP_WORDS=({words}); COMP_CWORD={cword}; _airlock airlock {cur} {prev}; \
                 echo \"${{COMPREPLY[@]}}\"",
                script.display()
            ))
            .output()
            .expect("bash completion run");
        let offered = String::from_utf8_lossy(&out.stdout);
        assert!(
            offered.split_whitespace().any(|w| w == want),
            "{words:?} offered {offered:?}"
        );
    }
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
