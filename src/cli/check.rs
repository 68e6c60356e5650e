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
    anyhow::ensure!(
        report.passed(),
        "the connection check failed; the first failing step above says why and what to fix"
    );
    Ok(())
}
