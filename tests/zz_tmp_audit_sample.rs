use enroll_station::audit::*;
use enroll_station::domain::card::{Atr, CardId};
#[test]
fn sample() {
    let path = std::path::Path::new("/tmp/audit-sample/audit.jsonl");
    let _ = std::fs::remove_file(path);
    let mut j = AuditJournal::open(path).expect("open");
    let a = j.record_attempt(AttemptInfo { station: "desk-7".into(), operator: Operator { os_user: Some("alice".into()), principal: Some("alice@CONTOSO.COM".into()) }, supervisor: None, request_id: uuid::Uuid::parse_str("a9b4b42c-cc50-4c9b-89d1-bbc0bcd5a099").unwrap(), card_id: CardId::parse_cm_string("bc88f13f-83ba-4037-8262-46eba1291c6e").unwrap(), atr: Atr::parse_hex("3b8d0180fba000000397425446590301c8").unwrap(), reader: "Virtual PCD 00 00".into(), message: None }).unwrap();
    j.record_outcome(a, Outcome::Bound, OutcomeInfo { smartcard_uuid: Some(uuid::Uuid::from_u128(0x5c)), correlation_id: None, message: None }).unwrap();
}
