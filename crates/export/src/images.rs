//! Uploaded pictures made fit for pages and PDFs: every image is fully decoded once at
//! upload (a corrupt file is refused then, not when a dossier renders months later),
//! phone photos are turned upright by their EXIF orientation and scaled down, so a
//! dossier of forty sessions stays a file people can mail.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};

/// The longest side a photo keeps: sharp on A4 at two photos per row.
pub const MAX_SIDE: u32 = 1600;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("not a PNG or JPEG image")]
    Format,
    #[error("image: {0}")]
    Decode(String),
}

fn decode(bytes: &[u8]) -> Result<(DynamicImage, ImageFormat), ImageError> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ImageError::Decode(e.to_string()))?;
    let format = reader.format().ok_or(ImageError::Format)?;
    if !matches!(format, ImageFormat::Png | ImageFormat::Jpeg) {
        return Err(ImageError::Format);
    }
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| ImageError::Decode(e.to_string()))?;
    let orientation = decoder
        .orientation()
        .map_err(|e| ImageError::Decode(e.to_string()))?;
    let mut img =
        DynamicImage::from_decoder(decoder).map_err(|e| ImageError::Decode(e.to_string()))?;
    img.apply_orientation(orientation);
    Ok((img, format))
}

/// A photo as it is kept: upright, at most [`MAX_SIDE`] pixels, JPEG (PNG stays PNG
/// when it needs no change, e.g. a screenshot). Refuses anything that does not decode.
pub fn prepare_photo(bytes: &[u8]) -> Result<Vec<u8>, ImageError> {
    let (img, format) = decode(bytes)?;
    let big = img.width().max(img.height()) > MAX_SIDE;
    if !big && format == ImageFormat::Png {
        return Ok(bytes.to_vec());
    }
    let img = if big {
        img.resize(MAX_SIDE, MAX_SIDE, image::imageops::FilterType::Triangle)
    } else {
        img
    };
    let mut out = Vec::new();
    let rgb = DynamicImage::ImageRgb8(img.to_rgb8());
    rgb.write_to(&mut Cursor::new(&mut out), ImageFormat::Jpeg)
        .map_err(|e| ImageError::Decode(e.to_string()))?;
    Ok(out)
}

/// Checks that an image decodes, keeping it as it is (a seal keeps its transparency).
pub fn check_image(bytes: &[u8]) -> Result<(), ImageError> {
    decode(bytes).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = DynamicImage::new_rgb8(w, h);
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn big_photos_shrink_small_pngs_stay() {
        let small = png(40, 30);
        assert_eq!(prepare_photo(&small).unwrap(), small);
        let big = prepare_photo(&png(3200, 2400)).unwrap();
        let (img, f) = decode(&big).unwrap();
        assert_eq!(f, ImageFormat::Jpeg);
        assert_eq!((img.width(), img.height()), (1600, 1200));
    }

    #[test]
    fn broken_images_are_refused() {
        let mut b = png(10, 10);
        b.truncate(b.len() / 2);
        assert!(prepare_photo(&b).is_err());
        assert!(check_image(b"GIF89a....").is_err());
        assert!(check_image(&png(2, 2)).is_ok());
    }
}
