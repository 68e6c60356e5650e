//! `enroll-station check`: the connection check, as text or JSON.

use anyhow::Context as _;

use super::Settings;
use super::output::print_json;
use crate::cm::check::run_check;

pub(super) fn run(settings: &Settings, json: bool) -> anyhow::Result<()> {
    let server = settings.server().context(
        "No CM server is configured, so there is nothing to check. Give --server \
         https://cm.example.com (or set `server` in the configuration file).",
    )?;
    let report = super::runtime()?.block_on(run_check(&settings.client_config(server)));
    if json {
        print_json(&report)?;
    } else {
        print!("{}", super::escape::term_lines(&report.to_text()));
    }
    forwarding(settings, json)?;
    anyhow::ensure!(
        report.passed(),
        "the connection check failed; the first failing step above says why and what to fix"
    );
    Ok(())
}

/// Tries each `[audit_forwarding]` destination (without sending a record)
/// and says how each went; fails when one cannot be reached.
fn forwarding(settings: &Settings, json: bool) -> anyhow::Result<()> {
    let forward = super::audit::forward_settings(&settings.config.audit_forwarding)?;
    let found = crate::audit::forward::probe(&forward);
    let failing: Vec<String> = found
        .iter()
        .filter_map(|(name, result)| result.as_ref().err().map(|why| format!("{name}: {why}")))
        .collect();
    if !json {
        if found.is_empty() {
            println!("Audit forwarding: no destination configured ([audit_forwarding]).");
        }
        for (name, result) in &found {
            let line = match result {
                Ok(()) => format!("Audit forwarding to {name}: reachable."),
                Err(why) => format!("Audit forwarding to {name}: FAILED: {why}"),
            };
            println!("{}", super::escape::term(&line));
        }
    }
    anyhow::ensure!(
        failing.is_empty(),
        "audit records cannot be forwarded ({}); binding still works and the journal keeps \
         every record, but fix [audit_forwarding] so they leave the station",
        failing.join("; ")
    );
    Ok(())
}
