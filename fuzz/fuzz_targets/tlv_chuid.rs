//! BER-TLV and the PIV CHUID: both come straight from a card.

#![no_main]

use enroll_station::card::{identity, tlv};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(objects) = tlv::parse_all(data) {
        // Every value must be a slice of the input, so the parser cannot have
        // invented bytes or read past the end.
        let total: usize = objects.iter().map(|o| o.value.len()).sum();
        assert!(total <= data.len());
        for object in &objects {
            let _ = object.is_constructed();
            if object.is_constructed() {
                let _ = tlv::parse_all(object.value);
            }
        }
    }
    let _ = tlv::find(data, 0x53);
    let _ = identity::chuid_card_id(data);
});
