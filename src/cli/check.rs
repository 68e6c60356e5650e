//! `enroll-station check`: the connection check, as text or JSON.

use anyhow::Context as _;

use super::Settings;
use super::output::print_json;
use crate::audit::forward::ForwardError;
use crate::cm::check::{CheckReport, run_check};

pub(super) fn run(settings: &Settings, json: bool) -> anyhow::Result<()> {
    let server = settings.server().context(
        "No CM server is configured, so there is nothing to check. Give --server \
         https://cm.example.com (or set `server` in the configuration file).",
    )?;
    let report = super::runtime()?.block_on(run_check(&settings.client_config(server)));
    let forward = super::audit::forward_settings(&settings.config.audit_forwarding)?;
    let found = crate::audit::forward::probe(&forward);
    if json {
        // One JSON document: the connection's steps, then each forwarding
        // destination, so a script sees why the command failed.
        print_json(&CheckJson {
            report: &report,
            audit_forwarding: found
                .iter()
                .map(|(name, result)| ForwardingJson {
                    destination: name.clone(),
                    reachable: result.is_ok(),
                    problem: result.as_ref().err().map(ToString::to_string),
                })
                .collect(),
        })?;
    } else {
        print!("{}", super::escape::term_lines(&report.to_text()));
        print_forwarding(&found);
    }
    let failing: Vec<String> = found
        .iter()
        .filter_map(|(name, result)| result.as_ref().err().map(|why| format!("{name}: {why}")))
        .collect();
    anyhow::ensure!(
        report.passed(),
        "the connection check failed; the first failing step above says why and what to fix"
    );
    anyhow::ensure!(
        failing.is_empty(),
        "audit records cannot be forwarded ({}); binding still works and the journal keeps \
         every record, but fix [audit_forwarding] so they leave the station",
        failing.join("; ")
    );
    Ok(())
}

#[derive(serde::Serialize)]
struct CheckJson<'a> {
    #[serde(flatten)]
    report: &'a CheckReport,
    audit_forwarding: Vec<ForwardingJson>,
}

#[derive(serde::Serialize)]
struct ForwardingJson {
    destination: String,
    reachable: bool,
    problem: Option<String>,
}

/// How each `[audit_forwarding]` destination answered (tried without
/// sending a record), for a person.
fn print_forwarding(found: &[(String, Result<(), ForwardError>)]) {
    if found.is_empty() {
        println!("Audit forwarding: no destination configured ([audit_forwarding]).");
    }
    for (name, result) in found {
        let line = match result {
            Ok(()) => format!("Audit forwarding to {name}: reachable."),
            Err(why) => format!("Audit forwarding to {name}: FAILED: {why}"),
        };
        println!("{}", super::escape::term(&line));
    }
}
