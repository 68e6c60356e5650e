//! A directory photo (`thumbnailPhoto`, `jpegPhoto`) made small enough to
//! show and keep: a JPEG of bounded size, decoded with bounds, scaled down.
//!
//! The bytes come from the directory, which anyone with write access to
//! their own photo attribute controls: the input size and the picture's
//! sides are checked before any pixel is decoded.

use std::sync::Arc;

use zune_jpeg::JpegDecoder;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

use crate::domain::person::Photo;

/// The largest photo read, in bytes (AD caps `thumbnailPhoto` at 100 KB).
pub const MAX_INPUT_BYTES: usize = 256 * 1024;

/// The largest side decoded, in pixels.
pub const MAX_SIDE: usize = 2048;

/// The longest side kept, in pixels: enough to recognise a face.
pub const SHOWN_SIDE: u32 = 128;

/// Why a photo was not used, in words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    /// More than [`MAX_INPUT_BYTES`].
    #[error("the photo is {0} bytes, more than the {MAX_INPUT_BYTES} the station reads")]
    TooLarge(usize),
    /// A side over [`MAX_SIDE`], or zero.
    #[error("the photo is {width}x{height} pixels; the station reads up to {MAX_SIDE} on a side")]
    BadSize {
        /// Its width.
        width: usize,
        /// Its height.
        height: usize,
    },
    /// Not a JPEG the decoder reads.
    #[error("the photo is not a readable JPEG ({0})")]
    NotJpeg(String),
}

/// `jpeg` decoded and scaled to at most [`SHOWN_SIDE`] on its long side.
pub fn decode(jpeg: &[u8]) -> Result<Photo, PhotoError> {
    if jpeg.len() > MAX_INPUT_BYTES {
        return Err(PhotoError::TooLarge(jpeg.len()));
    }
    let options = DecoderOptions::default()
        .set_max_width(MAX_SIDE)
        .set_max_height(MAX_SIDE)
        .jpeg_set_out_colorspace(ColorSpace::RGBA);
    let mut decoder = JpegDecoder::new_with_options(std::io::Cursor::new(jpeg), options);
    decoder
        .decode_headers()
        .map_err(|e| not_jpeg_or_too_big(&e))?;
    let info = decoder
        .info()
        .ok_or_else(|| PhotoError::NotJpeg("no picture header".to_owned()))?;
    let (width, height) = (usize::from(info.width), usize::from(info.height));
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
        return Err(PhotoError::BadSize { width, height });
    }
    let components = decoder
        .output_colorspace()
        .map_or(0, |space| space.num_components());
    let pixels = decoder.decode().map_err(|e| not_jpeg_or_too_big(&e))?;
    let rgba = to_rgba(&pixels, components, width * height)
        .ok_or_else(|| PhotoError::NotJpeg("an unexpected colour layout".to_owned()))?;
    Ok(downscale(&rgba, width, height, SHOWN_SIDE as usize))
}

fn not_jpeg_or_too_big(error: &zune_jpeg::errors::DecodeErrors) -> PhotoError {
    match error {
        zune_jpeg::errors::DecodeErrors::LargeDimensions(_) => PhotoError::BadSize {
            width: MAX_SIDE + 1,
            height: MAX_SIDE + 1,
        },
        other => PhotoError::NotJpeg(format!("{other:?}").chars().take(200).collect()),
    }
}

/// The decoder's output as RGBA, whatever it gave.
fn to_rgba(pixels: &[u8], components: usize, count: usize) -> Option<Vec<u8>> {
    if components == 0 || pixels.len() < count * components {
        return None;
    }
    let pixels = &pixels[..count * components];
    Some(match components {
        4 => pixels.to_vec(),
        3 => pixels
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        2 => pixels
            .chunks_exact(2)
            .flat_map(|p| [p[0], p[0], p[0], p[1]])
            .collect(),
        1 => pixels.iter().flat_map(|&l| [l, l, l, 255]).collect(),
        _ => return None,
    })
}

/// `rgba` scaled to at most `side` on its long side by averaging the source
/// pixels under each target pixel; a smaller picture is kept as it is.
fn downscale(rgba: &[u8], width: usize, height: usize, side: usize) -> Photo {
    let long = width.max(height);
    if long <= side {
        return photo(width, height, rgba.to_vec());
    }
    let out_w = (width * side).div_ceil(long).max(1);
    let out_h = (height * side).div_ceil(long).max(1);
    let mut out = Vec::with_capacity(out_w * out_h * 4);
    for oy in 0..out_h {
        let (y0, y1) = (
            oy * height / out_h,
            ((oy + 1) * height / out_h).max(oy * height / out_h + 1),
        );
        for ox in 0..out_w {
            let (x0, x1) = (
                ox * width / out_w,
                ((ox + 1) * width / out_w).max(ox * width / out_w + 1),
            );
            let mut sum = [0u64; 4];
            for y in y0..y1.min(height) {
                let row = &rgba[(y * width + x0) * 4..(y * width + x1.min(width)) * 4];
                for pixel in row.chunks_exact(4) {
                    for (total, &channel) in sum.iter_mut().zip(pixel) {
                        *total += u64::from(channel);
                    }
                }
            }
            let n = ((y1.min(height) - y0) * (x1.min(width) - x0)).max(1) as u64;
            out.extend(sum.map(|total| u8::try_from(total / n).unwrap_or(u8::MAX)));
        }
    }
    photo(out_w, out_h, out)
}

fn photo(width: usize, height: usize, rgba: Vec<u8>) -> Photo {
    Photo {
        width: u32::try_from(width).unwrap_or(u32::MAX),
        height: u32::try_from(height).unwrap_or(u32::MAX),
        rgba: Arc::from(rgba),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_much_input_is_refused_before_decoding() {
        let error = decode(&vec![0xff; MAX_INPUT_BYTES + 1]).expect_err("too large");
        assert!(matches!(error, PhotoError::TooLarge(_)), "{error}");
        assert!(error.to_string().contains("262144"), "{error}");
    }

    #[test]
    fn garbage_is_not_a_jpeg() {
        let error = decode(b"GIF89a not a jpeg").expect_err("garbage");
        assert!(error.to_string().contains("not a readable JPEG"), "{error}");
        assert!(decode(&[]).is_err());
    }

    #[test]
    fn a_big_picture_is_averaged_down_to_the_shown_side() {
        // 300x150, left half black, right half white.
        let (w, h) = (300, 150);
        let rgba: Vec<u8> = (0..w * h)
            .flat_map(|i| {
                let v = if i % w < w / 2 { 0 } else { 255 };
                [v, v, v, 255]
            })
            .collect();
        let small = downscale(&rgba, w, h, 128);
        assert_eq!((small.width, small.height), (128, 64));
        assert_eq!(small.rgba.len(), 128 * 64 * 4);
        assert_eq!(&small.rgba[..4], &[0, 0, 0, 255]);
        let last = small.rgba.len() - 4;
        assert_eq!(&small.rgba[last..], &[255, 255, 255, 255]);
        let kept = downscale(&rgba[..10 * 5 * 4], 10, 5, 128);
        assert_eq!((kept.width, kept.height), (10, 5));
    }

    #[test]
    fn a_real_photo_is_decoded_and_scaled() {
        let jpeg = include_bytes!("../../tests/fixtures/directory-photo.jpg");
        let photo = decode(jpeg).expect("the fixture decodes");
        // 192x240 scaled to 128 on the long side.
        assert_eq!((photo.width, photo.height), (103, 128));
        assert_eq!(photo.rgba.len(), 103 * 128 * 4);
        // The face's skin tone in the middle, opaque.
        let at = (50 * 103 + 51) * 4;
        let pixel = &photo.rgba[at..at + 4];
        assert!(
            pixel[0] > 200 && pixel[2] < 170 && pixel[3] == 255,
            "{pixel:?}"
        );
    }

    #[test]
    fn every_layout_becomes_rgba() {
        assert_eq!(to_rgba(&[9], 1, 1), Some(vec![9, 9, 9, 255]));
        assert_eq!(to_rgba(&[1, 2, 3], 3, 1), Some(vec![1, 2, 3, 255]));
        assert_eq!(to_rgba(&[1, 2, 3], 3, 2), None, "short output");
    }
}
