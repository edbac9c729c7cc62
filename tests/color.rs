//! Colour per stream (issue 16): each of stdout and stderr is coloured only when it is a
//! terminal (or `CLICOLOR_FORCE` / `--color always` says so), and `NO_COLOR` turns colour off.
//! `tug app show --offline` on a workspace with an invalid manifest writes coloured headings
//! to stdout and a coloured warning to stderr, without AWS, so it shows both decisions.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rexpect::session::spawn_command;
use support::{copy_dir, text};

const ESC: char = '\x1b';
/// The bold heading `app show` writes to stdout, and the warning it writes to stderr.
const HEADING: &str = "\x1b[1mEnvironments\x1b[0m";
const WARNING: &str = "\x1b[1;33m";

/// The demo workspace with one error (a CPU size Fargate does not offer), so that
/// `app show` also warns on stderr.
fn invalid_demo() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests/demo");
    copy_dir(&demo, tmp.path());
    let web: PathBuf = tmp.path().join("copilot/web/manifest.yml");
    let manifest = fs::read_to_string(&web).expect("read");
    let broken: String = manifest
        .lines()
        .map(|l| if l.starts_with("cpu:") { "cpu: 3" } else { l })
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(
        broken,
        manifest.trim_end(),
        "the demo web manifest sets cpu"
    );
    fs::write(&web, broken).expect("write");
    tmp
}

/// A command whose colour depends only on what the test sets: the variables anstream reads
/// are removed and TERM names a colour terminal.
fn command(program: &str, dir: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(dir)
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CI")
        .env_remove("AWS_PROFILE");
    cmd
}

/// `tug app show --offline` with pipes for stdout and stderr.
fn piped(dir: &Path, flags: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = command(env!("CARGO_BIN_EXE_tug"), dir);
    cmd.args(["app", "show", "--offline"]).args(flags);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("tug runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    out
}

/// Runs `script` with `sh` on a pseudo-terminal (`$0` is the tug binary) and returns what
/// reached the terminal.
fn on_terminal(dir: &Path, script: &str, env: &[(&str, &str)]) -> String {
    let mut cmd = command("sh", dir);
    cmd.args(["-c", script, env!("CARGO_BIN_EXE_tug")]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut p = spawn_command(cmd, Some(30_000)).expect("spawn on a pty");
    p.exp_eof().expect("tug exits")
}

/// See issue 16: `tug svc logs … > file` from a terminal wrote escape codes into the file,
/// because colour was decided from stderr alone.
#[test]
fn redirected_stdout_gets_no_escape_codes_while_stderr_is_a_terminal() {
    let ws = invalid_demo();
    let terminal = on_terminal(ws.path(), r#"exec "$0" app show --offline > out.txt"#, &[]);
    // stderr is the terminal: its warning is coloured.
    assert!(
        terminal.contains("Some manifests have errors"),
        "{terminal:?}"
    );
    assert!(terminal.contains(WARNING), "{terminal:?}");
    let file = fs::read_to_string(ws.path().join("out.txt")).expect("out.txt");
    assert!(file.contains("\nEnvironments\n"), "{file}");
    assert!(!file.contains(ESC), "{file:?}");
}

#[test]
fn both_streams_are_coloured_on_a_terminal_unless_no_color() {
    let ws = invalid_demo();
    let script = r#"exec "$0" app show --offline"#;
    let coloured = on_terminal(ws.path(), script, &[]);
    assert!(coloured.contains(HEADING), "{coloured:?}");
    assert!(coloured.contains(WARNING), "{coloured:?}");
    let plain = on_terminal(ws.path(), script, &[("NO_COLOR", "1")]);
    assert!(plain.contains("Environments"), "{plain:?}");
    assert!(!plain.contains(ESC), "{plain:?}");
}

#[test]
fn pipes_are_plain_unless_clicolor_force_or_color_always() {
    let ws = invalid_demo();
    let out = piped(ws.path(), &[], &[]);
    assert!(!text(&out.stdout).contains(ESC), "{}", text(&out.stdout));
    assert!(!text(&out.stderr).contains(ESC), "{}", text(&out.stderr));

    let out = piped(ws.path(), &[], &[("CLICOLOR_FORCE", "1")]);
    assert!(text(&out.stdout).contains(HEADING), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains(WARNING), "{}", text(&out.stderr));

    let out = piped(ws.path(), &["--color", "always"], &[]);
    assert!(text(&out.stdout).contains(HEADING), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains(WARNING), "{}", text(&out.stderr));
}

/// `NO_COLOR` outranks `CLICOLOR_FORCE`; a flag on the command line outranks both.
#[test]
fn no_color_and_the_flag_take_precedence() {
    let ws = invalid_demo();
    let both = [("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")];
    let out = piped(ws.path(), &[], &both);
    assert!(!text(&out.stdout).contains(ESC), "{}", text(&out.stdout));
    assert!(!text(&out.stderr).contains(ESC), "{}", text(&out.stderr));

    let out = piped(ws.path(), &["--color", "never"], &[("CLICOLOR_FORCE", "1")]);
    assert!(!text(&out.stdout).contains(ESC), "{}", text(&out.stdout));
    assert!(!text(&out.stderr).contains(ESC), "{}", text(&out.stderr));

    let out = piped(ws.path(), &["--color", "always"], &[("NO_COLOR", "1")]);
    assert!(text(&out.stdout).contains(HEADING), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains(WARNING), "{}", text(&out.stderr));
}
