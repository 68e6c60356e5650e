//! Answer-to-reset parsing per ISO/IEC 7816-3 (interface bytes) and 7816-4
//! (historical bytes), for the reader panel's "what is this card" view.
//!
//! Size: 550 lines of the ATR's types and their parser; the rest is its tests.
//!
//! The ATR names a card model at best; it never identifies one card, so
//! nothing here feeds the bind. It only helps an operator or support see what
//! was inserted. Everything is read from the card, so the parser never panics
//! and never indexes blindly: odd ATRs become an [`AtrError`] or a reported
//! problem in [`ParsedAtr`] (a missing or wrong TCK, bytes after the ATR).

mod explain;

pub use explain::spaced_hex;

use thiserror::Error;

/// The longest ATR ISO 7816-3 allows: TS and at most 32 further bytes.
pub const MAX_ATR_LEN: usize = 33;

/// TS of a direct-convention card.
pub const TS_DIRECT: u8 = 0x3B;

/// TS of an inverse-convention card, as readers report it (already decoded).
pub const TS_INVERSE: u8 = 0x3F;

/// The global interface bytes' pseudo-protocol (TD with T=15).
pub const T15_GLOBAL: u8 = 15;

/// Why bytes are not an ATR at all.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum AtrError {
    /// No bytes.
    #[error("the ATR is empty")]
    Empty,
    /// The first byte is neither `3B` nor `3F`.
    #[error("TS is {0:02X}, neither 3B (direct convention) nor 3F (inverse convention)")]
    InvalidTs(u8),
    /// The ATR ends before a byte that T0 or a TD byte announced.
    #[error("the ATR ends at byte {offset}, where {expected} was expected")]
    Truncated {
        /// What was announced but is missing (e.g. "TA2", "historical byte 3 of 8").
        expected: String,
        /// The length of the ATR, where the missing byte would have been.
        offset: usize,
    },
}

/// The transmission convention announced by TS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Convention {
    /// `3B`: high level is 1, least significant bit first.
    Direct,
    /// `3F`: low level is 1, most significant bit first.
    Inverse,
}

/// One group of interface bytes: TA*i*, TB*i*, TC*i*, TD*i*.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InterfaceGroup {
    /// The group number *i*, from 1.
    pub index: usize,
    /// The protocol the previous TD byte named, which gives the meaning of
    /// TA*i*..TC*i* for *i* > 2; `None` for group 1.
    pub protocol: Option<u8>,
    /// TA*i*, when present.
    pub ta: Option<u8>,
    /// TB*i*, when present.
    pub tb: Option<u8>,
    /// TC*i*, when present.
    pub tc: Option<u8>,
    /// TD*i*, when present.
    pub td: Option<u8>,
}

/// The clock rate conversion factor Fi and baud rate adjustment factor Di (TA1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockRate {
    /// True when TA1 gave the values; false for the defaults (Fi = 372, Di = 1).
    pub from_ta1: bool,
    /// The Fi code (high nibble of TA1).
    pub fi_code: u8,
    /// The Di code (low nibble of TA1).
    pub di_code: u8,
    /// Fi, or `None` for a reserved code.
    pub fi: Option<u16>,
    /// The maximum clock frequency that goes with Fi, in kHz.
    pub f_max_khz: Option<u32>,
    /// Di, or `None` for a reserved code.
    pub di: Option<u8>,
}

impl ClockRate {
    /// The default when TA1 is absent: Fi = 372, Di = 1, f max 5 MHz.
    pub const DEFAULT: Self = Self {
        from_ta1: false,
        fi_code: 1,
        di_code: 1,
        fi: Some(372),
        f_max_khz: Some(5_000),
        di: Some(1),
    };

    /// Decodes TA1.
    pub fn from_ta1(ta1: u8) -> Self {
        let fi_code = ta1 >> 4;
        let di_code = ta1 & 0x0F;
        let (fi, f_max_khz) = match fi_code {
            0 => (Some(372), Some(4_000)),
            1 => (Some(372), Some(5_000)),
            2 => (Some(558), Some(6_000)),
            3 => (Some(744), Some(8_000)),
            4 => (Some(1116), Some(12_000)),
            5 => (Some(1488), Some(16_000)),
            6 => (Some(1860), Some(20_000)),
            9 => (Some(512), Some(5_000)),
            10 => (Some(768), Some(7_500)),
            11 => (Some(1024), Some(10_000)),
            12 => (Some(1536), Some(15_000)),
            13 => (Some(2048), Some(20_000)),
            _ => (None, None),
        };
        let di = match di_code {
            1 => Some(1),
            2 => Some(2),
            3 => Some(4),
            4 => Some(8),
            5 => Some(16),
            6 => Some(32),
            7 => Some(64),
            8 => Some(12),
            9 => Some(20),
            _ => None,
        };
        Self {
            from_ta1: true,
            fi_code,
            di_code,
            fi,
            f_max_khz,
            di,
        }
    }

    /// Clock cycles per elementary time unit (Fi / Di), when both are defined.
    pub fn clocks_per_etu(&self) -> Option<f64> {
        Some(f64::from(self.fi?) / f64::from(self.di?))
    }

    /// The bit rate at the maximum clock frequency, in bit/s, when defined.
    pub fn max_bit_rate(&self) -> Option<u32> {
        let khz = u64::from(self.f_max_khz?);
        let rate = khz * 1000 * u64::from(self.di?) / u64::from(self.fi?);
        u32::try_from(rate).ok()
    }
}

/// TA2: the card runs in specific mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpecificMode {
    /// The protocol the card insists on.
    pub protocol: u8,
    /// Whether the card can switch to negotiable mode (bit 8 is 0).
    pub can_change: bool,
    /// True when Fi/Di are implicit (bit 5 set) rather than those of TA1.
    pub implicit_parameters: bool,
}

/// The error detection code of T=1 (TC*i* bit 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorDetection {
    /// Longitudinal redundancy check (the default).
    Lrc,
    /// Cyclic redundancy check.
    Crc,
}

/// The T=1 parameters from the first interface bytes after a TD naming T=1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct T1Parameters {
    /// The card's information field size (TA*i*), when given; default 32.
    pub ifsc: Option<u8>,
    /// The block waiting time integer (TB*i* high nibble), when given; default 4.
    pub bwi: Option<u8>,
    /// The character waiting time integer (TB*i* low nibble), when given; default 13.
    pub cwi: Option<u8>,
    /// The error detection code (TC*i*), when given; default LRC.
    pub error_detection: Option<ErrorDetection>,
}

/// The global interface bytes of T=15: clock stop and voltage classes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalT15 {
    /// The clock stop indicator X (TA*i* bits 8-7), when TA*i* is present.
    pub clock_stop: Option<u8>,
    /// The class indicator U (TA*i* bits 6-1), when TA*i* is present.
    pub classes: Option<u8>,
    /// The use of contact C6 (TB*i*), when present.
    pub spu: Option<u8>,
}

/// The TCK check byte's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tck {
    /// Only T=0 is offered, so there is no TCK.
    NotRequired,
    /// The XOR of T0..TCK is zero.
    Valid(u8),
    /// The XOR of T0..TCK is not zero; `expected` is the TCK that would be.
    Invalid {
        /// The byte the card sent.
        found: u8,
        /// The byte that makes the XOR zero.
        expected: u8,
    },
    /// A protocol other than T=0 is offered but the ATR ends before the TCK.
    Missing,
}

/// One compact-TLV object of the historical bytes (tag and length in one byte).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompactTlv {
    /// The tag (high nibble of the first byte).
    pub tag: u8,
    /// The value bytes.
    pub value: Vec<u8>,
}

impl CompactTlv {
    /// The ISO 7816-4 name of the tag.
    pub fn name(&self) -> &'static str {
        match self.tag {
            0x1 => "Country code",
            0x2 => "Issuer identification number",
            0x3 => "Card service data",
            0x4 => "Initial access data",
            0x5 => "Card issuer's data",
            0x6 => "Pre-issuing data",
            0x7 => "Card capabilities",
            0x8 => "Status indicator",
            0xF => "Application identifier",
            _ => "Reserved tag",
        }
    }
}

/// The status indicator: life cycle status and/or a status word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusIndicator {
    /// The life cycle status byte, when given.
    pub lcs: Option<u8>,
    /// SW1 SW2, when given.
    pub sw: Option<u16>,
}

/// The historical bytes, decoded as far as their category indicator allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Historical {
    /// No historical bytes.
    None,
    /// `00`: compact-TLV objects, then a three-byte status indicator.
    CompactWithStatus {
        /// The objects.
        objects: Vec<CompactTlv>,
        /// The final status indicator; `None` when fewer than three bytes follow the category.
        status: Option<StatusIndicator>,
        /// Bytes that did not form a whole object.
        malformed: Vec<u8>,
    },
    /// `10`: a DIR data reference.
    DirReference(Vec<u8>),
    /// `80`: compact-TLV objects, the status indicator among them if any.
    Compact {
        /// The objects.
        objects: Vec<CompactTlv>,
        /// Bytes that did not form a whole object.
        malformed: Vec<u8>,
    },
    /// `81`-`8F`: reserved for future use.
    Reserved(u8),
    /// Any other category: the card's own format.
    Proprietary(u8),
}

/// An ATR split into its parts, with the values that can be derived from them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedAtr {
    /// The whole ATR as given, trailing bytes included.
    pub raw: Vec<u8>,
    /// TS.
    pub convention: Convention,
    /// The format byte T0 (Y1 in the high nibble, K in the low).
    pub t0: u8,
    /// The interface byte groups, in order; empty when T0 announces none.
    pub groups: Vec<InterfaceGroup>,
    /// The protocols offered (T of each TD, T=15 excluded), in order,
    /// without repeats; `[0]` when no TD names one.
    pub protocols: Vec<u8>,
    /// Whether a TD announced T=15 (global interface bytes).
    pub has_t15: bool,
    /// Fi and Di, from TA1 or the defaults.
    pub clock_rate: ClockRate,
    /// TB1, deprecated programming voltage (00 = none), when present.
    pub tb1: Option<u8>,
    /// TC1: the extra guard time N, when present.
    pub extra_guard_time: Option<u8>,
    /// TA2: specific mode, when present.
    pub specific_mode: Option<SpecificMode>,
    /// TB2, deprecated programming voltage, when present.
    pub tb2: Option<u8>,
    /// TC2: T=0 waiting time integer WI, when present.
    pub t0_waiting_integer: Option<u8>,
    /// T=1 parameters, when T=1 is offered.
    pub t1: Option<T1Parameters>,
    /// T=15 global parameters, when announced.
    pub t15: Option<GlobalT15>,
    /// The historical bytes as sent.
    pub historical_bytes: Vec<u8>,
    /// The historical bytes decoded.
    pub historical: Historical,
    /// The TCK verdict.
    pub tck: Tck,
    /// Bytes after the ATR (after the TCK, or after the historical bytes when
    /// there is no TCK). A well-behaved reader reports none.
    pub trailing: Vec<u8>,
}

/// Parses an ATR as readers report it (inverse-convention ATRs already decoded, TS = `3F`).
pub fn parse(bytes: &[u8]) -> Result<ParsedAtr, AtrError> {
    let mut reader = Reader { bytes, pos: 0 };
    let ts = reader.next("TS").map_err(|_| AtrError::Empty)?;
    let convention = match ts {
        TS_DIRECT => Convention::Direct,
        TS_INVERSE => Convention::Inverse,
        other => return Err(AtrError::InvalidTs(other)),
    };
    let t0 = reader.next("T0")?;
    let historical_len = usize::from(t0 & 0x0F);

    let mut groups = Vec::new();
    let mut presence = t0 >> 4;
    let mut protocol = None;
    let mut index = 1;
    // Each TD's high nibble announces the next group; a group without TD ends the chain.
    while presence != 0 {
        let mut take = |bit: u8, name: &str| -> Result<Option<u8>, AtrError> {
            if presence & bit == 0 {
                return Ok(None);
            }
            reader.next(&format!("{name}{index}")).map(Some)
        };
        let group = InterfaceGroup {
            index,
            protocol,
            ta: take(0x1, "TA")?,
            tb: take(0x2, "TB")?,
            tc: take(0x4, "TC")?,
            td: take(0x8, "TD")?,
        };
        groups.push(group);
        match group.td {
            Some(td) => {
                presence = td >> 4;
                protocol = Some(td & 0x0F);
            }
            None => presence = 0,
        }
        index += 1;
    }

    let mut historical_bytes = Vec::with_capacity(historical_len);
    for n in 1..=historical_len {
        historical_bytes.push(reader.next(&format!("historical byte {n} of {historical_len}"))?);
    }

    let announced: Vec<u8> = groups
        .iter()
        .filter_map(|g| g.td)
        .map(|td| td & 0x0F)
        .collect();
    let has_t15 = announced.contains(&T15_GLOBAL);
    let tck_required = announced.iter().any(|t| *t != 0);
    let mut protocols = Vec::new();
    for t in announced.iter().copied().filter(|t| *t != T15_GLOBAL) {
        if !protocols.contains(&t) {
            protocols.push(t);
        }
    }
    if protocols.is_empty() {
        protocols.push(0);
    }

    let tck = if tck_required {
        match reader.next("TCK") {
            Ok(found) => {
                // XOR over T0..TCK: zero when the check byte is right.
                let covered = bytes.get(1..reader.pos).unwrap_or_default();
                let check = covered.iter().fold(0u8, |acc, b| acc ^ b);
                if check == 0 {
                    Tck::Valid(found)
                } else {
                    Tck::Invalid {
                        found,
                        expected: found ^ check,
                    }
                }
            }
            Err(_) => Tck::Missing,
        }
    } else {
        Tck::NotRequired
    };
    let trailing = bytes.get(reader.pos..).unwrap_or_default().to_vec();

    let group = |i: usize| groups.iter().find(|g| g.index == i);
    let g1 = group(1);
    let g2 = group(2);
    let clock_rate = g1
        .and_then(|g| g.ta)
        .map_or(ClockRate::DEFAULT, ClockRate::from_ta1);
    let specific_mode = g2.and_then(|g| g.ta).map(|ta2| SpecificMode {
        protocol: ta2 & 0x0F,
        can_change: ta2 & 0x80 == 0,
        implicit_parameters: ta2 & 0x10 != 0,
    });
    let t1 = protocols.contains(&1).then(|| t1_parameters(&groups));
    let t15 = has_t15.then(|| t15_parameters(&groups));

    Ok(ParsedAtr {
        raw: bytes.to_vec(),
        convention,
        t0,
        tb1: g1.and_then(|g| g.tb),
        extra_guard_time: g1.and_then(|g| g.tc),
        specific_mode,
        tb2: g2.and_then(|g| g.tb),
        t0_waiting_integer: g2.and_then(|g| g.tc),
        groups,
        protocols,
        has_t15,
        clock_rate,
        t1,
        t15,
        historical: decode_historical(&historical_bytes),
        historical_bytes,
        tck,
        trailing,
    })
}

/// The first group after a TD naming T=1, from group 3 on, holds IFSC, BWI/CWI and the EDC.
fn t1_parameters(groups: &[InterfaceGroup]) -> T1Parameters {
    let first = groups
        .iter()
        .find(|g| g.index >= 3 && g.protocol == Some(1));
    T1Parameters {
        ifsc: first.and_then(|g| g.ta),
        bwi: first.and_then(|g| g.tb).map(|tb| tb >> 4),
        cwi: first.and_then(|g| g.tb).map(|tb| tb & 0x0F),
        error_detection: first.and_then(|g| g.tc).map(|tc| {
            if tc & 0x01 == 0 {
                ErrorDetection::Lrc
            } else {
                ErrorDetection::Crc
            }
        }),
    }
}

/// The first group after a TD naming T=15, from group 3 on, holds the global parameters.
fn t15_parameters(groups: &[InterfaceGroup]) -> GlobalT15 {
    let first = groups
        .iter()
        .find(|g| g.index >= 3 && g.protocol == Some(T15_GLOBAL));
    GlobalT15 {
        clock_stop: first.and_then(|g| g.ta).map(|ta| ta >> 6),
        classes: first.and_then(|g| g.ta).map(|ta| ta & 0x3F),
        spu: first.and_then(|g| g.tb),
    }
}

/// Decodes the historical bytes by their category indicator (ISO 7816-4, 8.1.1).
fn decode_historical(bytes: &[u8]) -> Historical {
    let Some((&category, rest)) = bytes.split_first() else {
        return Historical::None;
    };
    match category {
        0x00 => {
            // The status indicator is the last three bytes, outside the TLVs.
            let split = rest.len().checked_sub(3);
            let (tlvs, status) = match split {
                Some(at) => rest.split_at(at),
                None => (rest, &[][..]),
            };
            let (objects, malformed) = compact_tlvs(tlvs);
            let status = match status {
                [lcs, sw1, sw2] => Some(StatusIndicator {
                    lcs: Some(*lcs),
                    sw: Some(u16::from_be_bytes([*sw1, *sw2])),
                }),
                _ => None,
            };
            Historical::CompactWithStatus {
                objects,
                status,
                malformed,
            }
        }
        0x10 => Historical::DirReference(rest.to_vec()),
        0x80 => {
            let (objects, malformed) = compact_tlvs(rest);
            Historical::Compact { objects, malformed }
        }
        0x81..=0x8F => Historical::Reserved(category),
        other => Historical::Proprietary(other),
    }
}

/// Splits compact-TLV objects; returns them and the bytes of an object cut short.
fn compact_tlvs(mut bytes: &[u8]) -> (Vec<CompactTlv>, Vec<u8>) {
    let mut objects = Vec::new();
    while let Some((&header, rest)) = bytes.split_first() {
        let len = usize::from(header & 0x0F);
        let Some(value) = rest.get(..len) else {
            return (objects, bytes.to_vec());
        };
        objects.push(CompactTlv {
            tag: header >> 4,
            value: value.to_vec(),
        });
        bytes = rest.get(len..).unwrap_or_default();
    }
    (objects, Vec::new())
}

/// Reads bytes in order and says which one is missing when the ATR ends.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn next(&mut self, expected: &str) -> Result<u8, AtrError> {
        let byte = self
            .bytes
            .get(self.pos)
            .copied()
            .ok_or_else(|| AtrError::Truncated {
                expected: expected.to_owned(),
                offset: self.pos,
            })?;
        self.pos += 1;
        Ok(byte)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::identity::GIDS_AID;
    use proptest::prelude::*;

    pub(super) const GIDS: &str = "3b8d0180fba000000397425446590301c8";
    pub(super) const YUBIKEY: &str = "3bf81300008131fe15597562696b657934d4";
    pub(super) const T0_CARD: &str = "3b6800000073c84000009000";

    pub(super) fn atr(text: &str) -> Vec<u8> {
        hex::decode(text.replace(' ', "")).expect("test ATR is hex")
    }

    /// The ATR in `text` with the TCK that makes it valid appended.
    pub(super) fn with_tck(text: &str) -> Vec<u8> {
        let mut bytes = atr(text);
        let check = bytes.iter().skip(1).fold(0u8, |acc, b| acc ^ b);
        bytes.push(check);
        bytes
    }

    #[test]
    fn gids_atr_carries_the_gids_aid_in_compact_tlv() {
        let parsed = parse(&atr(GIDS)).expect("parses");
        assert_eq!(parsed.convention, Convention::Direct);
        assert_eq!(parsed.protocols, vec![1]);
        assert_eq!(parsed.clock_rate, ClockRate::DEFAULT);
        assert_eq!(parsed.tck, Tck::Valid(0xC8));
        assert!(parsed.trailing.is_empty());
        assert_eq!(parsed.historical_bytes.len(), 13);
        let Historical::Compact { objects, malformed } = &parsed.historical else {
            panic!("category 80: {:?}", parsed.historical);
        };
        assert!(malformed.is_empty());
        assert_eq!(objects.len(), 1);
        assert_eq!(objects[0].tag, 0xF);
        assert!(objects[0].value.starts_with(&GIDS_AID));
        assert_eq!(objects[0].value.get(9..), Some(&[0x03, 0x01][..]));
    }

    #[test]
    fn yubikey_atr_gives_ta1_and_t1_parameters() {
        let parsed = parse(&atr(YUBIKEY)).expect("parses");
        assert_eq!(parsed.protocols, vec![1]);
        assert_eq!(parsed.groups.len(), 3);
        assert_eq!(parsed.clock_rate.fi, Some(372));
        assert_eq!(parsed.clock_rate.di, Some(4));
        assert_eq!(parsed.clock_rate.f_max_khz, Some(5_000));
        assert_eq!(parsed.clock_rate.clocks_per_etu(), Some(93.0));
        assert_eq!(parsed.tb1, Some(0));
        assert_eq!(parsed.extra_guard_time, Some(0));
        assert_eq!(
            parsed.t1,
            Some(T1Parameters {
                ifsc: Some(254),
                bwi: Some(1),
                cwi: Some(5),
                error_detection: None,
            })
        );
        assert_eq!(parsed.historical, Historical::Proprietary(0x59));
        assert_eq!(parsed.tck, Tck::Valid(0xD4));
    }

    #[test]
    fn t0_card_has_no_tck_and_a_status_indicator() {
        let parsed = parse(&atr(T0_CARD)).expect("parses");
        assert_eq!(parsed.protocols, vec![0]);
        assert_eq!(parsed.tck, Tck::NotRequired);
        assert!(parsed.trailing.is_empty());
        let Historical::CompactWithStatus {
            objects,
            status,
            malformed,
        } = &parsed.historical
        else {
            panic!("category 00: {:?}", parsed.historical);
        };
        assert!(malformed.is_empty());
        assert_eq!(
            objects,
            &vec![CompactTlv {
                tag: 7,
                value: vec![0xC8, 0x40, 0x00]
            }]
        );
        assert_eq!(
            status,
            &Some(StatusIndicator {
                lcs: Some(0),
                sw: Some(0x9000)
            })
        );
    }

    #[test]
    fn inverse_convention_is_recognised_and_other_ts_refused() {
        let parsed = parse(&atr("3F 65 25 00 2B 09 62 90 00")).expect("parses");
        assert_eq!(parsed.convention, Convention::Inverse);
        assert_eq!(parsed.tck, Tck::NotRequired);
        assert_eq!(parse(&atr("03 65")), Err(AtrError::InvalidTs(0x03)));
        assert_eq!(parse(&[]), Err(AtrError::Empty));
    }

    #[test]
    fn truncated_atrs_name_the_missing_byte() {
        let gids = atr(GIDS);
        let cases = [
            (1, "T0"),
            (2, "TD1"),
            (3, "historical byte 1 of 13"),
            (10, "historical byte 8 of 13"),
        ];
        for (len, expected) in cases {
            assert_eq!(
                parse(&gids[..len]),
                Err(AtrError::Truncated {
                    expected: expected.to_owned(),
                    offset: len
                }),
                "{len}"
            );
        }
        let yubikey = atr(YUBIKEY);
        assert!(matches!(
            parse(&yubikey[..7]),
            Err(AtrError::Truncated { expected, .. }) if expected == "TA3"
        ));
    }

    #[test]
    fn missing_and_wrong_tck_and_trailing_bytes_are_reported() {
        let mut gids = atr(GIDS);
        let without_tck = parse(&gids[..gids.len() - 1]).expect("parses");
        assert_eq!(without_tck.tck, Tck::Missing);

        if let Some(last) = gids.last_mut() {
            *last = 0xC9;
        }
        let bad = parse(&gids).expect("parses");
        assert_eq!(
            bad.tck,
            Tck::Invalid {
                found: 0xC9,
                expected: 0xC8
            }
        );

        let trailing = parse(&atr(&format!("{GIDS}9000"))).expect("parses");
        assert_eq!(trailing.tck, Tck::Valid(0xC8));
        assert_eq!(trailing.trailing, vec![0x90, 0x00]);

        let t0_extra = parse(&atr(&format!("{T0_CARD}AA"))).expect("parses");
        assert_eq!(t0_extra.trailing, vec![0xAA]);
    }

    #[test]
    fn t15_specific_mode_and_tc2_are_decoded() {
        // TD1 = T=0 with TA2/TC2/TD2; TD2 = T=15 with TA3 (clock stop, classes A and B).
        let bytes = with_tck("3B 80 D0 96 0A 1F 03");
        let check = bytes.last().copied().expect("a TCK");
        let parsed = parse(&bytes).expect("parses");
        assert_eq!(parsed.protocols, vec![0]);
        assert!(parsed.has_t15);
        assert_eq!(
            parsed.specific_mode,
            Some(SpecificMode {
                protocol: 6,
                can_change: false,
                implicit_parameters: true
            })
        );
        assert_eq!(parsed.t0_waiting_integer, Some(0x0A));
        assert_eq!(
            parsed.t15,
            Some(GlobalT15 {
                clock_stop: Some(0),
                classes: Some(0x03),
                spu: None
            })
        );
        // T=15 makes the TCK mandatory even when only T=0 is offered.
        assert_eq!(parsed.tck, Tck::Valid(check));
    }

    #[test]
    fn reserved_fi_and_di_give_no_derived_values() {
        let rate = ClockRate::from_ta1(0x7A);
        assert_eq!(rate.fi, None);
        assert_eq!(rate.di, None);
        assert_eq!(rate.clocks_per_etu(), None);
        assert_eq!(rate.max_bit_rate(), None);
        assert_eq!(ClockRate::from_ta1(0x96).max_bit_rate(), Some(312_500));
    }

    #[test]
    fn a_cut_compact_tlv_is_reported_as_malformed() {
        // 80 category, then an AID object announcing 15 bytes but carrying 2.
        let parsed = parse(&with_tck("3B 84 01 80 FF A0 00")).expect("parses");
        assert_eq!(
            parsed.historical,
            Historical::Compact {
                objects: vec![],
                malformed: vec![0xFF, 0xA0, 0x00]
            }
        );
    }

    /// A well-formed ATR from random parts, with the right TCK when one is needed.
    fn well_formed() -> impl Strategy<Value = (Vec<u8>, Vec<u8>, usize)> {
        let group = (any::<[Option<u8>; 3]>(), 0u8..16);
        (
            prop::bool::ANY,
            prop::collection::vec(group, 0..5),
            prop::collection::vec(any::<u8>(), 0..16),
        )
            .prop_map(|(inverse, groups, historical)| {
                let mut bytes = vec![if inverse { TS_INVERSE } else { TS_DIRECT }];
                let len = u8::try_from(historical.len()).expect("at most 15");
                let presence = |g: &([Option<u8>; 3], u8), has_td: bool| {
                    g.0.iter()
                        .enumerate()
                        .filter(|(_, b)| b.is_some())
                        .fold(u8::from(has_td) << 3, |acc, (i, _)| acc | (1 << i))
                };
                let first = groups.first().map_or(0, |g| presence(g, groups.len() > 1));
                bytes.push((first << 4) | len);
                let mut needs_tck = false;
                for (i, g) in groups.iter().enumerate() {
                    bytes.extend(g.0.iter().flatten());
                    if let Some(next) = groups.get(i + 1) {
                        let t = g.1;
                        needs_tck |= t != 0;
                        bytes.push((presence(next, i + 2 < groups.len()) << 4) | t);
                    }
                }
                bytes.extend_from_slice(&historical);
                if needs_tck {
                    let check = bytes.iter().skip(1).fold(0u8, |acc, b| acc ^ b);
                    bytes.push(check);
                }
                // A last group without TA/TB/TC leaves its TD's Y nibble at 0: it is not there.
                let visible = match groups.last() {
                    Some(last) if last.0.iter().all(Option::is_none) => groups.len() - 1,
                    _ => groups.len(),
                };
                (bytes, historical, visible)
            })
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_explain_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..48)) {
            if let Ok(parsed) = parse(&bytes) {
                let lines = parsed.explain();
                prop_assert!(!lines.is_empty());
                prop_assert_eq!(&parsed.raw, &bytes);
            }
        }

        #[test]
        fn atr_like_bytes_never_panic(tail in prop::collection::vec(any::<u8>(), 0..40), inverse in any::<bool>()) {
            // Most random bytes die at TS; these get past it and exercise the chains.
            let mut bytes = vec![if inverse { TS_INVERSE } else { TS_DIRECT }];
            bytes.extend(tail);
            if let Ok(parsed) = parse(&bytes) {
                let _ = parsed.explain();
            }
        }

        #[test]
        fn well_formed_atrs_parse_completely((bytes, historical, groups) in well_formed()) {
            let parsed = parse(&bytes).expect("well formed");
            prop_assert_eq!(&parsed.historical_bytes, &historical);
            prop_assert_eq!(parsed.groups.len(), groups);
            prop_assert!(parsed.trailing.is_empty());
            let tck_ok = !matches!(parsed.tck, Tck::Invalid { .. } | Tck::Missing);
            prop_assert!(tck_ok, "{:?}", parsed.tck);
            let _ = parsed.explain();
        }
    }
}
