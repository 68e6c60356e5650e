//! `enroll-station card show`: the card in a reader and what CM knows of it,
//! before anything is bound (the same lookup as the readers panel's).

use anyhow::Context as _;

use super::Settings;
use super::escape::{term, term_lines};
use super::output::{CardShowJson, CmCardJson, print_json};

/// What to do with a card.
#[derive(Debug, clap::Subcommand)]
pub enum CardCommand {
    /// Read the card in a reader and ask CM what it knows of it: new to CM,
    /// or its status, user, profile template, certificates and operations.
    Show {
        /// The reader holding the card; without it, the only card present.
        #[arg(long, value_name = "NAME")]
        reader: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Ask CM to retire the card (returned; it may be issued again if its
    /// template allows): creates a Retire request.
    Retire(super::lifecycle::CardActionArgs),
    /// Ask CM to revoke the card's certificates (lost or stolen): creates a
    /// Revoke request.
    Revoke(super::lifecycle::CardActionArgs),
}

pub(super) fn run(settings: &Settings, command: CardCommand) -> anyhow::Result<()> {
    let (reader, json) = match command {
        CardCommand::Show { reader, json } => (reader, json),
        CardCommand::Retire(args) => {
            return super::lifecycle::run_card_action(
                settings,
                crate::domain::request::RequestType::RETIRE,
                args,
            );
        }
        CardCommand::Revoke(args) => {
            return super::lifecycle::run_card_action(
                settings,
                crate::domain::request::RequestType::REVOKE,
                args,
            );
        }
    };
    let mut board = settings
        .card_reader()
        .snapshot()
        .context("Could not list the card readers")?;
    settings.reader_filter().apply(&mut board);
    let (reader, identity) = super::bind::named_card(&board, reader.as_deref())?;
    let client = settings.client()?;
    let record = super::runtime()?
        .block_on(client.card_record(&identity.card_id))
        .with_context(|| {
            format!(
                "Card {} was read, but CM could not be asked about it",
                identity.card_id
            )
        })?;
    if let Some(record) = &record {
        for why in [
            &record.operations.as_ref().err(),
            &record.certificates.as_ref().err(),
        ]
        .into_iter()
        .flatten()
        {
            eprintln!("enroll-station: {}", term_lines(&why.to_string()));
        }
    }
    if json {
        return print_json(&CardShowJson {
            reader,
            atr: identity.atr.to_hex(),
            card_id: identity.card_id.to_string(),
            card_kind: identity.kind.as_str(),
            cm: record.as_ref().and_then(CmCardJson::new),
        });
    }
    println!("{}", term(&reader));
    println!("  ATR      {}", identity.atr.to_hex());
    println!("  card ID  {} ({})", identity.card_id, identity.kind);
    match &record {
        None => println!("  CM       new to CM: no smart card object has this card ID"),
        Some(record) => {
            for line in record.lines() {
                println!("  CM       {}", term(&line));
            }
        }
    }
    Ok(())
}
