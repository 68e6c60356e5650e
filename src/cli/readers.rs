//! `enroll-station readers`.

use anyhow::Context as _;

use std::io::Write as _;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::Settings;
use super::escape::term;
use super::output::{EventJson, ReaderJson, json_line, print_json};
use crate::card::monitor::{EventSink, spawn_monitor_with};

/// Follows the readers until interrupted, one line per event.
pub(super) fn watch(settings: &Settings, json: bool) -> anyhow::Result<()> {
    let filter = settings.reader_filter();
    let (tx, rx) = std::sync::mpsc::channel();
    let sink: EventSink = Arc::new(move |event| {
        // Stamped here, where the station learns of the event, not when it is printed.
        let time_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let _ = tx.send((time_ms, event));
    });
    let _monitor = spawn_monitor_with(filter.wrap(sink), settings.card_reader());
    let mut out = std::io::stdout().lock();
    for (time_ms, event) in rx {
        let line = EventJson::new(&event, time_ms);
        if json {
            writeln!(out, "{}", json_line(&line)?)?;
        } else {
            let detail = [
                line.atr,
                line.card_id,
                line.card_kind.map(str::to_owned),
                line.problem,
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("  ");
            writeln!(
                out,
                "{time_ms}  {:<18} {}  {}",
                line.event,
                term(&line.reader.unwrap_or_default()),
                term(&detail)
            )?;
        }
        // Scripts read line by line: do not let a pipe buffer hold events back.
        out.flush()?;
    }
    Ok(())
}

pub(super) fn run(settings: &Settings, json: bool) -> anyhow::Result<()> {
    let filter = settings.reader_filter();
    let mut board = settings
        .card_reader()
        .snapshot()
        .context("Could not list the card readers")?;
    filter.apply(&mut board);
    let readers: Vec<ReaderJson> = board
        .readers()
        .map(|(name, slot)| ReaderJson::new(name, slot))
        .collect();
    if json {
        return print_json(&readers);
    }
    if readers.is_empty() {
        println!("No card reader is connected.");
    }
    for reader in readers {
        println!("{}: {}", term(&reader.name), reader.state);
        if let Some(atr) = reader.atr {
            println!("  ATR      {}", term(&atr));
        }
        if let (Some(id), Some(kind)) = (reader.card_id, reader.card_kind) {
            println!("  card ID  {} ({kind})", term(&id));
        }
        if let Some(problem) = reader.problem {
            println!("  problem  {}", term(&problem));
        }
    }
    Ok(())
}
