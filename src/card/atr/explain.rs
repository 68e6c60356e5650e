//! What each byte of a parsed ATR means, in words: the reader panel's
//! "ATR details" lines, one label and value each, in ATR order.

use std::fmt::Write as _;

use super::{
    ClockRate, CompactTlv, Convention, ErrorDetection, Historical, InterfaceGroup, MAX_ATR_LEN,
    ParsedAtr, SpecificMode, StatusIndicator, T1Parameters, T15_GLOBAL, TS_DIRECT, TS_INVERSE, Tck,
};
use crate::card::identity::{GIDS_AID, PIV_AID};

impl ParsedAtr {
    /// Label and value lines for an expandable "ATR details" panel, in ATR order.
    pub fn explain(&self) -> Vec<(String, String)> {
        let mut lines = Vec::new();
        let mut add = |label: &str, value: String| lines.push((label.to_owned(), value));

        add("ATR", spaced_hex(&self.raw));
        add(
            "TS",
            match self.convention {
                Convention::Direct => format!("{TS_DIRECT:02X} direct convention"),
                Convention::Inverse => format!("{TS_INVERSE:02X} inverse convention"),
            },
        );
        add(
            "T0",
            format!(
                "{:02X}: Y1 = {:X} ({}), K = {} historical byte(s)",
                self.t0,
                self.t0 >> 4,
                present_bytes(self.t0 >> 4, 1),
                self.t0 & 0x0F
            ),
        );
        for group in &self.groups {
            for (letter, byte) in [
                ("TA", group.ta),
                ("TB", group.tb),
                ("TC", group.tc),
                ("TD", group.td),
            ] {
                if let Some(byte) = byte {
                    let label = format!("{letter}{}", group.index);
                    add(
                        &label,
                        format!(
                            "{byte:02X}: {}",
                            self.interface_meaning(group, letter, byte)
                        ),
                    );
                }
            }
        }
        add("Protocols", self.protocols_text());
        add("Fi/Di", clock_rate_text(&self.clock_rate));
        if let Some(t1) = &self.t1 {
            add("T=1", t1_text(t1));
        }
        add("Historical bytes", historical_text(&self.historical_bytes));
        for (label, value) in historical_lines(&self.historical) {
            add(&label, value);
        }
        add("TCK", self.tck_text());
        if !self.trailing.is_empty() {
            add(
                "Trailing bytes",
                format!(
                    "{} (after the end of the ATR; the reader or card added them)",
                    spaced_hex(&self.trailing)
                ),
            );
        }
        if self.raw.len() > MAX_ATR_LEN {
            add(
                "Length",
                format!(
                    "{} bytes, longer than the {MAX_ATR_LEN} ISO 7816-3 allows",
                    self.raw.len()
                ),
            );
        }
        lines
    }

    /// "T=1", "T=0, T=1", plus "T=15 global bytes" when announced.
    fn protocols_text(&self) -> String {
        let mut text = self
            .protocols
            .iter()
            .map(|t| format!("T={t}"))
            .collect::<Vec<_>>()
            .join(", ");
        if self.groups.first().and_then(|g| g.td).is_none() {
            text.push_str(" (implicit: no TD1)");
        }
        if self.has_t15 {
            text.push_str("; T=15 global interface bytes");
        }
        if let Some(mode) = &self.specific_mode {
            let _ = write!(text, "; specific mode T={}", mode.protocol);
        }
        text
    }

    /// What one interface byte means, by its position and the protocol before it.
    fn interface_meaning(&self, group: &InterfaceGroup, letter: &str, byte: u8) -> String {
        match (group.index, letter) {
            (_, "TD") => format!(
                "T={}{}, next: {}",
                byte & 0x0F,
                if byte & 0x0F == T15_GLOBAL {
                    " (global)"
                } else {
                    ""
                },
                present_bytes(byte >> 4, group.index + 1)
            ),
            (1, "TA") => clock_rate_text(&ClockRate::from_ta1(byte)),
            (1, "TB") => {
                if byte == 0 {
                    "no programming voltage (VPP not connected)".to_owned()
                } else {
                    "programming voltage (deprecated)".to_owned()
                }
            }
            (1, "TC") => match byte {
                255 => "extra guard time N = 255 (minimum guard time)".to_owned(),
                n => format!("extra guard time N = {n} ETU"),
            },
            (2, "TA") => {
                let mode = SpecificMode {
                    protocol: byte & 0x0F,
                    can_change: byte & 0x80 == 0,
                    implicit_parameters: byte & 0x10 != 0,
                };
                specific_mode_text(&mode)
            }
            (2, "TB") => "programming voltage PI2 (deprecated)".to_owned(),
            (2, "TC") => format!(
                "T=0 waiting time integer WI = {byte}{}",
                self.work_waiting_time_text(byte)
            ),
            (_, letter) => match (group.protocol, letter) {
                (Some(1), "TA") => format!("T=1 IFSC = {byte} bytes"),
                (Some(1), "TB") => format!("T=1 BWI = {}, CWI = {}", byte >> 4, byte & 0x0F),
                (Some(1), "TC") => format!(
                    "T=1 error detection: {}",
                    if byte & 0x01 == 0 { "LRC" } else { "CRC" }
                ),
                (Some(T15_GLOBAL), "TA") => format!(
                    "clock stop: {}, classes: {}",
                    clock_stop_text(byte >> 6),
                    classes_text(byte & 0x3F)
                ),
                (Some(T15_GLOBAL), "TB") => format!("use of C6 (SPU): {byte:02X}"),
                (Some(t), _) => format!("specific to T={t}"),
                (None, _) => "interface byte".to_owned(),
            },
        }
    }

    /// WT = WI × 960 × Fi / f, shown in ETU-free form: clock cycles.
    fn work_waiting_time_text(&self, wi: u8) -> String {
        match self.clock_rate.fi {
            Some(fi) => format!(
                " (WT = {} clock cycles)",
                u64::from(wi) * 960 * u64::from(fi)
            ),
            None => String::new(),
        }
    }

    /// "C8 (valid)", "C9 (wrong, expected C8)", ...
    fn tck_text(&self) -> String {
        match self.tck {
            Tck::NotRequired => "absent (not required: only T=0 is offered)".to_owned(),
            Tck::Valid(byte) => format!("{byte:02X} (valid)"),
            Tck::Invalid { found, expected } => {
                format!("{found:02X} (wrong: the check byte should be {expected:02X})")
            }
            Tck::Missing => {
                "missing (required because a protocol other than T=0 is offered)".to_owned()
            }
        }
    }
}

/// "TA2 TB2 TD2", or "none".
fn present_bytes(y: u8, index: usize) -> String {
    let names: Vec<String> = [(0x1, "TA"), (0x2, "TB"), (0x4, "TC"), (0x8, "TD")]
        .iter()
        .filter(|(bit, _)| y & bit != 0)
        .map(|(_, name)| format!("{name}{index}"))
        .collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(" ")
    }
}

fn clock_rate_text(rate: &ClockRate) -> String {
    let fi = rate.fi.map_or_else(
        || format!("reserved ({:X})", rate.fi_code),
        |fi| fi.to_string(),
    );
    let di = rate.di.map_or_else(
        || format!("reserved ({:X})", rate.di_code),
        |di| di.to_string(),
    );
    let mut text = format!("Fi = {fi}, Di = {di}");
    if let Some(khz) = rate.f_max_khz {
        let _ = write!(text, ", f max = {} MHz", f64::from(khz) / 1000.0);
    }
    if let Some(clocks) = rate.clocks_per_etu() {
        let _ = write!(text, ", 1 ETU = {clocks} clock cycles");
    }
    if let Some(rate) = rate.max_bit_rate() {
        let _ = write!(text, ", up to {rate} bit/s");
    }
    if !rate.from_ta1 {
        text.push_str(" (defaults: no TA1)");
    }
    text
}

fn specific_mode_text(mode: &SpecificMode) -> String {
    format!(
        "specific mode, T={}, {}, {}",
        mode.protocol,
        if mode.can_change {
            "can switch to negotiable mode"
        } else {
            "cannot switch mode"
        },
        if mode.implicit_parameters {
            "implicit Fi/Di"
        } else {
            "Fi/Di from TA1"
        }
    )
}

fn t1_text(t1: &T1Parameters) -> String {
    let or_default = |value: Option<u8>, default: u8| match value {
        Some(v) => v.to_string(),
        None => format!("{default} (default)"),
    };
    let edc = match t1.error_detection {
        Some(ErrorDetection::Lrc) => "LRC",
        Some(ErrorDetection::Crc) => "CRC",
        None => "LRC (default)",
    };
    format!(
        "IFSC = {}, BWI = {}, CWI = {}, error detection: {edc}",
        or_default(t1.ifsc, 32),
        or_default(t1.bwi, 4),
        or_default(t1.cwi, 13)
    )
}

fn clock_stop_text(x: u8) -> &'static str {
    match x {
        0 => "not supported",
        1 => "state L",
        2 => "state H",
        _ => "no preference",
    }
}

fn classes_text(u: u8) -> String {
    let names: Vec<&str> = [(0x01, "A (5 V)"), (0x02, "B (3 V)"), (0x04, "C (1.8 V)")]
        .iter()
        .filter(|(bit, _)| u & bit != 0)
        .map(|(_, name)| *name)
        .collect();
    if names.is_empty() {
        format!("{u:02X} (none known)")
    } else {
        names.join(", ")
    }
}

/// The bytes in hex, and as text when they are printable ASCII (e.g. "Yubikey4").
fn historical_text(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "none".to_owned();
    }
    let mut text = spaced_hex(bytes);
    if let Some(ascii) = printable(bytes) {
        let _ = write!(text, " (\"{ascii}\")");
    }
    text
}

/// The text of bytes that are mostly printable ASCII; `None` otherwise.
fn printable(bytes: &[u8]) -> Option<String> {
    let shown = bytes
        .iter()
        .filter(|b| b.is_ascii_graphic() || **b == b' ')
        .count();
    // Binary data with a few letters in it is not text: ask for three quarters.
    if bytes.len() < 3 || shown * 4 < bytes.len() * 3 {
        return None;
    }
    Some(
        bytes
            .iter()
            .map(|b| {
                if b.is_ascii_graphic() || *b == b' ' {
                    char::from(*b)
                } else {
                    '.'
                }
            })
            .collect(),
    )
}

fn historical_lines(historical: &Historical) -> Vec<(String, String)> {
    let mut lines = Vec::new();
    match historical {
        Historical::None => {}
        Historical::CompactWithStatus {
            objects,
            status,
            malformed,
        } => {
            lines.push((
                "Category".to_owned(),
                "00: compact-TLV objects and a status indicator".to_owned(),
            ));
            compact_lines(objects, malformed, &mut lines);
            match status {
                Some(status) => lines.push(("Status indicator".to_owned(), status_text(status))),
                None => lines.push((
                    "Status indicator".to_owned(),
                    "missing (category 00 requires three final bytes)".to_owned(),
                )),
            }
        }
        Historical::DirReference(reference) => lines.push((
            "Category".to_owned(),
            format!("10: DIR data reference {}", spaced_hex(reference)),
        )),
        Historical::Compact { objects, malformed } => {
            lines.push(("Category".to_owned(), "80: compact-TLV objects".to_owned()));
            compact_lines(objects, malformed, &mut lines);
        }
        Historical::Reserved(category) => lines.push((
            "Category".to_owned(),
            format!("{category:02X}: reserved for future use"),
        )),
        Historical::Proprietary(category) => lines.push((
            "Category".to_owned(),
            format!("{category:02X}: proprietary format"),
        )),
    }
    lines
}

fn compact_lines(objects: &[CompactTlv], malformed: &[u8], lines: &mut Vec<(String, String)>) {
    for object in objects {
        lines.push((object.name().to_owned(), compact_value_text(object)));
    }
    if !malformed.is_empty() {
        lines.push((
            "Malformed compact-TLV".to_owned(),
            format!("{} (the object is cut short)", spaced_hex(malformed)),
        ));
    }
}

/// One compact-TLV object's value, decoded where ISO 7816-4 defines it.
fn compact_value_text(object: &CompactTlv) -> String {
    let value = &object.value;
    let hex = format!("{:X}{:X}: {}", object.tag, value.len(), spaced_hex(value));
    let detail = match (object.tag, value.as_slice()) {
        (0x3, [byte]) => card_service_data_text(*byte),
        (0x7, capabilities) => card_capabilities_text(capabilities),
        (0x8, [lcs]) => status_text(&StatusIndicator {
            lcs: Some(*lcs),
            sw: None,
        }),
        (0x8, [sw1, sw2]) => status_text(&StatusIndicator {
            lcs: None,
            sw: Some(u16::from_be_bytes([*sw1, *sw2])),
        }),
        (0x8, [lcs, sw1, sw2]) => status_text(&StatusIndicator {
            lcs: Some(*lcs),
            sw: Some(u16::from_be_bytes([*sw1, *sw2])),
        }),
        (0xF, aid) => aid_text(aid),
        (0x5 | 0x6, data) => printable(data).map_or_else(String::new, |t| format!("\"{t}\"")),
        _ => String::new(),
    };
    if detail.is_empty() {
        hex
    } else {
        format!("{hex} ({detail})")
    }
}

fn aid_text(aid: &[u8]) -> String {
    let known = if aid.starts_with(&GIDS_AID) {
        Some("GIDS")
    } else if aid.starts_with(&PIV_AID) {
        Some("PIV")
    } else {
        None
    };
    let rid = aid.get(..5).map(spaced_hex);
    match (known, rid) {
        (Some(name), _) => {
            let version = aid.get(GIDS_AID.len()..).unwrap_or_default();
            if version.is_empty() {
                name.to_owned()
            } else {
                format!("{name}, version bytes {}", spaced_hex(version))
            }
        }
        (None, Some(rid)) => format!("RID {rid}"),
        (None, None) => String::new(),
    }
}

fn card_service_data_text(byte: u8) -> String {
    let mut parts = Vec::new();
    if byte & 0x80 != 0 {
        parts.push("selection by full DF name");
    }
    if byte & 0x40 != 0 {
        parts.push("selection by partial DF name");
    }
    if byte & 0x20 != 0 {
        parts.push("BER-TLV data objects in EF.DIR");
    }
    if byte & 0x10 != 0 {
        parts.push("BER-TLV data objects in EF.ATR");
    }
    parts.push(match (byte >> 1) & 0x07 {
        0b100 => "EF.DIR/EF.ATR by READ BINARY",
        0b010 => "EF.DIR/EF.ATR by GET DATA",
        0b000 => "EF.DIR/EF.ATR by READ RECORD(S)",
        _ => "EF.DIR/EF.ATR access: reserved",
    });
    parts.push(if byte & 0x01 == 0 {
        "card with MF"
    } else {
        "card without MF"
    });
    parts.join(", ")
}

fn card_capabilities_text(bytes: &[u8]) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(first) = bytes.first() {
        let methods: Vec<&str> = [
            (0x80, "full DF name"),
            (0x40, "partial DF name"),
            (0x20, "path"),
            (0x10, "file identifier"),
            (0x08, "implicit DF"),
        ]
        .iter()
        .filter(|(bit, _)| first & bit != 0)
        .map(|(_, name)| *name)
        .collect();
        if !methods.is_empty() {
            parts.push(format!("selection by {}", methods.join(", ")));
        }
        if first & 0x04 != 0 {
            parts.push("short EF identifiers".to_owned());
        }
        if first & 0x02 != 0 {
            parts.push("record numbers".to_owned());
        }
        if first & 0x01 != 0 {
            parts.push("record identifiers".to_owned());
        }
    }
    if let Some(coding) = bytes.get(1) {
        // b4-b1 is an exponent: the data unit is 2^n quartets (n = 1: bytes).
        parts.push(format!(
            "data coding {coding:02X} (data unit {} quartet(s))",
            1u32 << (coding & 0x0F)
        ));
    }
    if let Some(third) = bytes.get(2) {
        if third & 0x80 != 0 {
            parts.push("command chaining".to_owned());
        }
        if third & 0x40 != 0 {
            parts.push("extended Lc/Le".to_owned());
        }
        let assignment = match (third >> 3) & 0x03 {
            0b00 => "no logical channels",
            0b01 => "logical channels assigned by the reader",
            0b10 => "logical channels assigned by the card",
            _ => "logical channels assigned by the card and the reader",
        };
        parts.push(assignment.to_owned());
        let max = third & 0x07;
        if third & 0x18 != 0 {
            parts.push(if max == 0x07 {
                "8 or more logical channels".to_owned()
            } else {
                format!("up to {} logical channels", max + 1)
            });
        }
    }
    parts.join(", ")
}

fn status_text(status: &StatusIndicator) -> String {
    let mut parts = Vec::new();
    if let Some(lcs) = status.lcs {
        parts.push(format!("life cycle {lcs:02X} ({})", life_cycle_text(lcs)));
    }
    if let Some(sw) = status.sw {
        parts.push(format!("SW {sw:04X}"));
    }
    parts.join(", ")
}

fn life_cycle_text(lcs: u8) -> &'static str {
    match lcs {
        0x00 => "no information",
        0x01 => "creation",
        0x03 => "initialisation",
        0x05 | 0x07 => "operational, activated",
        0x04 | 0x06 => "operational, deactivated",
        0x0C..=0x0F => "terminated",
        _ => "proprietary or reserved",
    }
}

/// "3B 8D 01": upper-case hex with spaces, as card lists and tools print ATRs.
pub fn spaced_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, byte) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{byte:02X}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::atr::parse;
    use crate::card::atr::tests::{GIDS, T0_CARD, YUBIKEY, atr, with_tck};

    fn line<'a>(lines: &'a [(String, String)], label: &str) -> &'a str {
        lines
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {label} line in {lines:#?}"))
    }

    #[test]
    fn gids_atr_names_the_gids_aid() {
        let parsed = parse(&atr(GIDS)).expect("parses");
        let lines = parsed.explain();
        assert_eq!(line(&lines, "TS"), "3B direct convention");
        assert_eq!(line(&lines, "Protocols"), "T=1");
        assert_eq!(line(&lines, "TCK"), "C8 (valid)");
        assert_eq!(
            line(&lines, "Application identifier"),
            "FB: A0 00 00 03 97 42 54 46 59 03 01 (GIDS, version bytes 03 01)"
        );
        assert!(line(&lines, "TD1").starts_with("01: T=1, next: none"));
        assert!(line(&lines, "T=1").contains("IFSC = 32 (default)"));
    }

    #[test]
    fn yubikey_atr_shows_its_name_and_t1_bytes() {
        let parsed = parse(&atr(YUBIKEY)).expect("parses");
        let lines = parsed.explain();
        assert!(line(&lines, "Historical bytes").ends_with("(\"Yubikey4\")"));
        assert_eq!(line(&lines, "TA3"), "FE: T=1 IFSC = 254 bytes");
        assert_eq!(line(&lines, "TB3"), "15: T=1 BWI = 1, CWI = 5");
        assert!(line(&lines, "TA1").contains("Fi = 372, Di = 4"));
        assert!(line(&lines, "TD2").starts_with("31: T=1, next: TA3 TB3"));
    }

    #[test]
    fn t0_card_shows_no_tck_and_its_status_indicator() {
        let parsed = parse(&atr(T0_CARD)).expect("parses");
        let lines = parsed.explain();
        assert!(line(&lines, "TCK").starts_with("absent"));
        assert!(line(&lines, "Protocols").starts_with("T=0 (implicit"));
        assert!(line(&lines, "Card capabilities").contains("selection by full DF name"));
        assert!(line(&lines, "Status indicator").contains("SW 9000"));
    }

    #[test]
    fn the_inverse_convention_is_named() {
        let parsed = parse(&atr("3F 65 25 00 2B 09 62 90 00")).expect("parses");
        assert_eq!(line(&parsed.explain(), "TS"), "3F inverse convention");
    }

    #[test]
    fn missing_and_wrong_tck_and_trailing_bytes_are_explained() {
        let mut gids = atr(GIDS);
        let without_tck = parse(&gids[..gids.len() - 1]).expect("parses");
        assert!(line(&without_tck.explain(), "TCK").starts_with("missing"));

        if let Some(last) = gids.last_mut() {
            *last = 0xC9;
        }
        let bad = parse(&gids).expect("parses");
        assert_eq!(
            line(&bad.explain(), "TCK"),
            "C9 (wrong: the check byte should be C8)"
        );

        let trailing = parse(&atr(&format!("{GIDS}9000"))).expect("parses");
        assert!(line(&trailing.explain(), "Trailing bytes").starts_with("90 00"));
    }

    #[test]
    fn t15_specific_mode_and_tc2_are_explained() {
        let parsed = parse(&with_tck("3B 80 D0 96 0A 1F 03")).expect("parses");
        let lines = parsed.explain();
        assert!(line(&lines, "TA3").contains("A (5 V), B (3 V)"));
        assert!(line(&lines, "TA2").contains("cannot switch mode"));
        assert!(line(&lines, "Protocols").contains("T=15 global"));
    }

    #[test]
    fn reserved_fi_and_di_are_shown_as_reserved() {
        let rate = ClockRate::from_ta1(0x7A);
        assert_eq!(
            clock_rate_text(&rate),
            "Fi = reserved (7), Di = reserved (A)"
        );
    }

    #[test]
    fn a_cut_compact_tlv_is_shown_as_malformed() {
        let parsed = parse(&with_tck("3B 84 01 80 FF A0 00")).expect("parses");
        assert!(line(&parsed.explain(), "Malformed compact-TLV").starts_with("FF A0 00"));
    }
}
