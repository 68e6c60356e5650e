//! A small BER-TLV parser for card data objects (ISO 7816-4 / ISO 8825-1).
//!
//! Real cards return objects of varying shape (a PIV CHUID may start with
//! `EE`, carry `3D`, or a 1.5 KB signature), so identity code must walk the
//! TLVs instead of reading fixed offsets. The parser never panics and never
//! reads past its input: every malformed object is a [`TlvError`].

use thiserror::Error;

/// The longest tag the parser accepts, in bytes (e.g. `5F C1 02`).
pub const MAX_TAG_LEN: usize = 3;

/// Why bytes are not well-formed BER-TLV.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TlvError {
    /// The input ended inside a tag, a length or a value.
    #[error("the data ends inside a {part} at byte {offset}")]
    Truncated {
        /// Which part of the object was cut off.
        part: &'static str,
        /// Where the object that was cut off starts.
        offset: usize,
    },
    /// A tag longer than [`MAX_TAG_LEN`] bytes.
    #[error("a tag longer than {MAX_TAG_LEN} bytes at byte {offset}")]
    TagTooLong {
        /// Where the tag starts.
        offset: usize,
    },
    /// The indefinite length form (`80`), which card data objects never use.
    #[error("an indefinite length at byte {offset}")]
    IndefiniteLength {
        /// Where the length starts.
        offset: usize,
    },
    /// A length field longer than `83 xx xx xx`.
    #[error("a length field of {bytes} bytes at byte {offset}")]
    LengthTooLong {
        /// How many length bytes the first length byte announced.
        bytes: usize,
        /// Where the length starts.
        offset: usize,
    },
}

/// One data object: its tag (the tag bytes as a big-endian number, e.g.
/// `0x5FC102`) and its value, borrowed from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The tag bytes as a big-endian number.
    pub tag: u32,
    /// The value bytes.
    pub value: &'a [u8],
}

impl Tlv<'_> {
    /// True when the value is itself a sequence of TLVs (bit 6 of the first tag byte).
    pub fn is_constructed(&self) -> bool {
        let first = self.tag.to_be_bytes().into_iter().find(|b| *b != 0);
        first.is_some_and(|b| b & 0x20 != 0)
    }
}

/// Parses every object in `bytes`, skipping the `00`/`FF` filler bytes that
/// ISO 7816-4 allows before, between and after objects.
pub fn parse_all(bytes: &[u8]) -> Result<Vec<Tlv<'_>>, TlvError> {
    let mut objects = Vec::new();
    let mut offset = 0;
    while let Some(start) = skip_filler(bytes, offset) {
        let (object, next) = parse_at(bytes, start)?;
        objects.push(object);
        offset = next;
    }
    Ok(objects)
}

/// The value of the first top-level object with `tag`, if any. Fails when
/// the objects before it, or it, are malformed.
pub fn find(bytes: &[u8], tag: u32) -> Result<Option<&[u8]>, TlvError> {
    let mut offset = 0;
    while let Some(start) = skip_filler(bytes, offset) {
        let (object, next) = parse_at(bytes, start)?;
        if object.tag == tag {
            return Ok(Some(object.value));
        }
        offset = next;
    }
    Ok(None)
}

/// Parses the object that starts at `offset`; returns it and where the next begins.
pub fn parse_at(bytes: &[u8], offset: usize) -> Result<(Tlv<'_>, usize), TlvError> {
    let (tag, after_tag) = read_tag(bytes, offset)?;
    let (len, after_len) = read_length(bytes, after_tag)?;
    let end = after_len
        .checked_add(len)
        .filter(|end| *end <= bytes.len())
        .ok_or(TlvError::Truncated {
            part: "value",
            offset,
        })?;
    let value = bytes.get(after_len..end).ok_or(TlvError::Truncated {
        part: "value",
        offset,
    })?;
    Ok((Tlv { tag, value }, end))
}

/// The first non-filler position at or after `offset`, or `None` at the end.
fn skip_filler(bytes: &[u8], offset: usize) -> Option<usize> {
    let rest = bytes.get(offset..)?;
    rest.iter()
        .position(|b| *b != 0x00 && *b != 0xFF)
        .map(|skipped| offset + skipped)
}

/// Reads a tag: one byte, or, when its low five bits are all set, further
/// bytes while bit 8 is set.
fn read_tag(bytes: &[u8], offset: usize) -> Result<(u32, usize), TlvError> {
    let truncated = TlvError::Truncated {
        part: "tag",
        offset,
    };
    let first = *bytes.get(offset).ok_or(truncated.clone())?;
    let mut tag = u32::from(first);
    let mut pos = offset + 1;
    if first & 0x1F != 0x1F {
        return Ok((tag, pos));
    }
    loop {
        if pos - offset >= MAX_TAG_LEN {
            return Err(TlvError::TagTooLong { offset });
        }
        let next = *bytes.get(pos).ok_or(truncated.clone())?;
        tag = (tag << 8) | u32::from(next);
        pos += 1;
        if next & 0x80 == 0 {
            return Ok((tag, pos));
        }
    }
}

/// Reads a definite length: short form, or `81`/`82`/`83` followed by 1-3 bytes.
fn read_length(bytes: &[u8], offset: usize) -> Result<(usize, usize), TlvError> {
    let truncated = TlvError::Truncated {
        part: "length",
        offset,
    };
    let first = *bytes.get(offset).ok_or(truncated.clone())?;
    if first < 0x80 {
        return Ok((usize::from(first), offset + 1));
    }
    let count = usize::from(first & 0x7F);
    match count {
        0 => Err(TlvError::IndefiniteLength { offset }),
        1..=3 => {
            let digits = bytes.get(offset + 1..offset + 1 + count).ok_or(truncated)?;
            let len = digits
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            Ok((len, offset + 1 + count))
        }
        _ => Err(TlvError::LengthTooLong {
            bytes: count,
            offset,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bytes(text: &str) -> Vec<u8> {
        hex::decode(text.replace(' ', "")).expect("test data is hex")
    }

    #[test]
    fn one_byte_and_multi_byte_tags_are_read() {
        let data = bytes("34 02 AABB 5FC102 01 CC DF1F 00 9F7F 01 DD");
        let objects = parse_all(&data).expect("well formed");
        let tags: Vec<u32> = objects.iter().map(|o| o.tag).collect();
        assert_eq!(tags, vec![0x34, 0x5FC102, 0xDF1F, 0x9F7F]);
        assert_eq!(objects[0].value, &[0xAA, 0xBB]);
        assert_eq!(objects[2].value, &[] as &[u8]);
        assert_eq!(find(&data, 0x9F7F).expect("ok"), Some(&[0xDD][..]));
        assert_eq!(find(&data, 0x35).expect("ok"), None);
    }

    #[test]
    fn long_length_forms_are_read() {
        let short_long = [bytes("53 81 80"), vec![7; 0x80]].concat();
        assert_eq!(
            find(&short_long, 0x53).expect("ok").map(<[u8]>::len),
            Some(0x80)
        );

        let two = [bytes("3E 82 0600"), vec![1; 0x600], bytes("FE 00")].concat();
        let objects = parse_all(&two).expect("ok");
        assert_eq!(objects.len(), 2);
        assert_eq!(objects[0].value.len(), 0x600);
        assert_eq!(objects[1].tag, 0xFE);

        let three = [bytes("53 83 000102"), vec![2; 0x102]].concat();
        assert_eq!(
            find(&three, 0x53).expect("ok").map(<[u8]>::len),
            Some(0x102)
        );
    }

    #[test]
    fn truncated_input_is_an_error() {
        for (data, part) in [
            ("5F", "tag"),
            ("5FC1", "tag"),
            ("53", "length"),
            ("53 82 01", "length"),
            ("53 05 0102", "value"),
            ("53 82 FFFF 00", "value"),
            ("34 01 AA 35", "length"),
        ] {
            let err = parse_all(&bytes(data)).expect_err(data);
            assert!(
                matches!(err, TlvError::Truncated { part: p, .. } if p == part),
                "{data}: {err:?}"
            );
        }
    }

    #[test]
    fn indefinite_and_oversized_forms_are_refused() {
        assert_eq!(
            parse_all(&bytes("53 80 0000")),
            Err(TlvError::IndefiniteLength { offset: 1 })
        );
        assert!(matches!(
            parse_all(&bytes("53 84 00000001 AA")),
            Err(TlvError::LengthTooLong { bytes: 4, .. })
        ));
        assert_eq!(
            parse_all(&bytes("5F 81 82 03 00")),
            Err(TlvError::TagTooLong { offset: 0 })
        );
    }

    #[test]
    fn filler_bytes_are_skipped_and_empty_input_is_empty() {
        let data = bytes("00 FF 34 01 AA 00 00");
        let objects = parse_all(&data).expect("ok");
        assert_eq!(
            objects,
            vec![Tlv {
                tag: 0x34,
                value: &[0xAA]
            }]
        );
        assert_eq!(parse_all(&[]).expect("ok"), vec![]);
    }

    #[test]
    fn constructed_flag_follows_the_first_tag_byte() {
        let data = bytes("7F49 00 5F20 00 53 00 73 00");
        let objects = parse_all(&data).expect("ok");
        let flags: Vec<bool> = objects.iter().map(Tlv::is_constructed).collect();
        assert_eq!(flags, vec![true, false, false, true]);
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut seed = 0x1234_5678_u32;
        for _ in 0..2000 {
            let len = (seed % 40) as usize;
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (seed >> 16) as u8
                })
                .collect();
            let _ = parse_all(&data);
            let _ = find(&data, 0x34);
        }
    }

    /// A tag as its bytes: one byte (not filler, not a multi-byte lead), or
    /// `5F`/`9F`/`DF` plus one byte, or `5F C1 xx` as PIV uses.
    fn tag_bytes() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            (0x01u8..0xFF)
                .prop_filter("single-byte tag", |b| b & 0x1F != 0x1F)
                .prop_map(|b| vec![b]),
            (prop::sample::select(vec![0x5Fu8, 0x9F, 0xDF]), 0u8..0x80)
                .prop_map(|(a, b)| vec![a, b]),
            (0u8..0x80).prop_map(|c| vec![0x5F, 0xC1, c]),
        ]
    }

    /// Tag, length in the shortest BER form, value.
    fn encode(tag: &[u8], value: &[u8]) -> Vec<u8> {
        let mut out = tag.to_vec();
        match value.len() {
            len @ 0..=0x7F => out.push(u8::try_from(len).expect("short form")),
            len @ 0x80..=0xFF => out.extend([0x81, u8::try_from(len).expect("one byte")]),
            len => out.extend([0x82, (len >> 8) as u8, len as u8]),
        }
        out.extend_from_slice(value);
        out
    }

    proptest::proptest! {
        #[test]
        fn encoded_objects_parse_back(
            objects in prop::collection::vec((tag_bytes(), prop::collection::vec(any::<u8>(), 0..300)), 0..6),
        ) {
            let data: Vec<u8> = objects.iter().flat_map(|(tag, value)| encode(tag, value)).collect();
            let parsed = parse_all(&data).expect("well formed");
            prop_assert_eq!(parsed.len(), objects.len());
            for (object, (tag, value)) in parsed.iter().zip(&objects) {
                let number = tag.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
                prop_assert_eq!(object.tag, number);
                prop_assert_eq!(object.value, value.as_slice());
            }
        }

        #[test]
        fn arbitrary_input_never_panics_and_values_stay_inside(data in prop::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(objects) = parse_all(&data) {
                let total: usize = objects.iter().map(|o| o.value.len()).sum();
                prop_assert!(total <= data.len());
            }
            let _ = find(&data, 0x53);
        }
    }
}
