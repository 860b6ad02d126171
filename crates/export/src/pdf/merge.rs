//! Joins PDFs laid out part by part into one file, with a bookmark per section: how a
//! long dossier is made without typst holding the whole layout in memory.

use lopdf::{Bookmark, Dictionary, Document, Object, ObjectId, StringFormat};

use super::PdfError;

fn err(e: lopdf::Error) -> PdfError {
    PdfError::Typst(format!("joining the parts: {e}"))
}

/// `parts` in order; `bookmarks` as (title, 0-based page of the joined file).
pub fn join(
    parts: Vec<Vec<u8>>,
    title: &str,
    bookmarks: &[(String, usize)],
) -> Result<Vec<u8>, PdfError> {
    let mut out = Document::with_version("1.7");
    let pages_id = out.new_object_id();
    let mut kids: Vec<ObjectId> = Vec::new();
    for bytes in parts {
        let mut doc = Document::load_mem(&bytes).map_err(err)?;
        drop(bytes);
        // A page may inherit its size and resources from the part's page tree, which
        // is not kept: give each page its own before the tree goes.
        for id in doc.get_pages().into_values() {
            let mut page = doc.get_dictionary(id).map_err(err)?.clone();
            for key in [&b"MediaBox"[..], b"Resources", b"CropBox", b"Rotate"] {
                if page.has(key) {
                    continue;
                }
                if let Some(value) = inherited(&doc, id, key) {
                    page.set(key.to_vec(), value);
                }
            }
            doc.objects.insert(id, Object::Dictionary(page));
        }
        doc.renumber_objects_with(out.max_id + 1);
        kids.extend(doc.get_pages().into_values());
        out.max_id = out.max_id.max(doc.max_id);
        for (id, object) in doc.objects {
            match object.type_name().unwrap_or(b"") {
                b"Catalog" | b"Pages" | b"Outlines" | b"Outline" => {}
                _ => {
                    out.objects.insert(id, object);
                }
            }
        }
    }
    for id in &kids {
        if let Ok(page) = out.get_dictionary_mut(*id) {
            page.set("Parent", pages_id);
        }
    }
    let mut pages = Dictionary::new();
    pages.set("Type", "Pages");
    pages.set("Count", kids.len() as i64);
    pages.set(
        "Kids",
        kids.iter()
            .map(|id| Object::Reference(*id))
            .collect::<Vec<_>>(),
    );
    out.objects.insert(pages_id, Object::Dictionary(pages));
    let mut catalog = Dictionary::new();
    catalog.set("Type", "Catalog");
    catalog.set("Pages", pages_id);
    let catalog_id = out.add_object(catalog);
    out.trailer.set("Root", catalog_id);
    let mut info = Dictionary::new();
    info.set("Title", text_string(title));
    info.set("Producer", text_string("jiaxiao"));
    let info_id = out.add_object(info);
    out.trailer.set("Info", info_id);
    for (title, page) in bookmarks {
        if let Some(id) = kids.get(*page) {
            out.add_bookmark(Bookmark::new(title.clone(), [0.0; 3], 0, *id), None);
        }
    }
    if let Some(outline) = out.build_outline() {
        let catalog = out.get_dictionary_mut(catalog_id).map_err(err)?;
        catalog.set("Outlines", outline);
        catalog.set("PageMode", "UseOutlines");
    }
    // The parts' own structure and names trees hang off catalogs that were not kept.
    out.prune_objects();
    let mut bytes = Vec::new();
    out.save_to(&mut bytes)
        .map_err(|e| PdfError::Typst(format!("writing the joined PDF: {e}")))?;
    Ok(bytes)
}

/// A page attribute from the page or the nearest page-tree node above it.
fn inherited(doc: &Document, page: ObjectId, key: &[u8]) -> Option<Object> {
    let mut id = page;
    for _ in 0..32 {
        let node = doc.get_dictionary(id).ok()?;
        if let Ok(value) = node.get(key) {
            return Some(value.clone());
        }
        id = node.get(b"Parent").ok()?.as_reference().ok()?;
    }
    None
}

/// A PDF text string (UTF-16BE with its byte-order mark), as Chinese titles need.
fn text_string(s: &str) -> Object {
    let mut bytes = vec![0xFE, 0xFF];
    bytes.extend(s.encode_utf16().flat_map(|u| u.to_be_bytes()));
    Object::String(bytes, StringFormat::Hexadecimal)
}
