//! `enroll-station readers`.

use anyhow::Context as _;

use super::output::{ReaderJson, print_json};
use crate::card::pcsc_reader::PcscReader;

pub(super) fn run(json: bool) -> anyhow::Result<()> {
    let board = PcscReader::new()
        .snapshot()
        .context("Could not list the card readers")?;
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
        println!("{}: {}", reader.name, reader.state);
        if let Some(atr) = reader.atr {
            println!("  ATR      {atr}");
        }
        if let (Some(id), Some(kind)) = (reader.card_id, reader.card_kind) {
            println!("  card ID  {id} ({kind})");
        }
        if let Some(problem) = reader.problem {
            println!("  problem  {problem}");
        }
    }
    Ok(())
}
