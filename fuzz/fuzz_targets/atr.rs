//! The ATR parser, its explanation and the card-name matcher: the ATR comes from the card.

#![no_main]

use enroll_station::card::atr;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = atr::parse(data) {
        assert_eq!(parsed.raw, data);
        assert!(parsed.historical_bytes.len() <= 15);
        assert!(parsed.trailing.len() < data.len());
        let lines = parsed.explain();
        assert!(lines.iter().any(|(label, _)| label == "TCK"));
    }
});
