//! `ss`, asked about one process: the cross-check of the grader's own reading of `/proc`
//! ([`crate::inspect`]) with the tool the book teaches.

use std::time::Instant;

use crate::inspect::SocketRow;
use crate::program::{Ending, FINISH, Input, Run, Subject};

/// A socket as `ss` shows it: (fd, tcp or udp, state, local, peer or `None`).
type SsRow = (u32, String, String, String, Option<String>);

/// Compares the truth with `ss -tuanp`, where `ss` is installed; says so and agrees where not.
pub fn compare_with_ss(pid: i32, truth: &[SocketRow]) -> Result<(), String> {
    let Some(seen) = ss_rows(pid)? else {
        eprintln!("note: `ss` is not installed: the sockstat checks compare with /proc only");
        return Ok(());
    };
    let wanted: Vec<SsRow> = truth
        .iter()
        .map(|r| {
            (
                r.fd,
                r.proto.trim_end_matches('6').to_string(),
                r.state.to_string(),
                r.local.to_string(),
                r.remote.map(|a| a.to_string()),
            )
        })
        .collect();
    if seen == wanted {
        Ok(())
    } else {
        Err(format!("ss shows {seen:?}, /proc shows {wanted:?}"))
    }
}

/// `ss -H -tuanp`'s lines about `pid`, one per descriptor, sorted; `None` without `ss`.
fn ss_rows(pid: i32) -> Result<Option<Vec<SsRow>>, String> {
    let ss = Subject {
        exe: "ss".into(),
        shown_as: "ss".into(),
    };
    let args: Vec<String> = vec!["-H".into(), "-tuanp".into()];
    let run = match Run::start(&ss, &args, Input::Lines(vec![])) {
        Ok(run) => run,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot run ss: {e}")),
    };
    let outcome = run.finish(Instant::now() + FINISH);
    if outcome.ending != Ending::Exited(0) {
        return Err(format!("ss failed: {}", outcome.stderr_text()));
    }
    let mut rows = Vec::new();
    let marker = format!("pid={pid},fd=");
    for line in outcome.stdout_lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [netid, state, _, _, local, peer, process @ ..] = fields.as_slice() else {
            continue;
        };
        let peer = (!peer.ends_with(":*")).then(|| peer.to_string());
        for part in process.join(" ").split(&marker).skip(1) {
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(fd) = digits.parse() {
                rows.push((
                    fd,
                    netid.to_string(),
                    state.to_string(),
                    local.to_string(),
                    peer.clone(),
                ));
            }
        }
    }
    rows.sort();
    Ok(Some(rows))
}
