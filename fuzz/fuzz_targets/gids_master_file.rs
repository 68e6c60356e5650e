//! The GIDS master file table answer (`DF 1F <len> 01 <records>`), from a card.

#![no_main]

use enroll_station::card::identity;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(records) = identity::parse_master_file_table(data) {
        // 28 bytes per record after the tag, length and version bytes.
        assert!(records.len() * identity::GIDS_RECORD_LEN <= data.len());
    }
});
