//! The typst side of the PDF renderers: system fonts loaded once per process, and a
//! minimal `World` that serves one template, its data as JSON and image files from memory.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use typst::diag::{FileError, FileResult, Severity, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook, FontInfo};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;

use super::PdfError;

/// Where Debian (and most distributions) install fonts.
const SYSTEM_FONT_DIR: &str = "/usr/share/fonts";
/// An extra directory, for machines whose CJK fonts live elsewhere.
pub const FONT_DIR_ENV: &str = "JIAXIAO_FONT_DIR";

/// Families tried in order; the first one present is used. Noto is what Debian's
/// fonts-noto-cjk installs; Source Han is the same design under Adobe's name.
const SANS_FAMILIES: &[&str] = &[
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
];
const SERIF_FAMILIES: &[&str] = &[
    "Noto Serif CJK SC",
    "Source Han Serif SC",
    "Source Han Serif CN",
];

/// The font families a template should ask for.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Families {
    pub sans: String,
    /// Falls back to the sans family when no CJK serif is installed.
    pub serif: String,
}

/// One face of one font file. Files are read again on first use rather than kept
/// from the scan: the CJK collections are ~20 MB each and most system fonts are never used.
struct Slot {
    file: usize,
    index: u32,
    font: OnceLock<Option<Font>>,
}

struct FontFile {
    path: PathBuf,
    data: OnceLock<Option<Bytes>>,
}

pub struct Fonts {
    book: LazyHash<FontBook>,
    slots: Vec<Slot>,
    files: Vec<FontFile>,
    pub families: Families,
}

impl Fonts {
    fn font(&self, index: usize) -> Option<Font> {
        let slot = self.slots.get(index)?;
        slot.font
            .get_or_init(|| {
                let file = &self.files[slot.file];
                let data = file
                    .data
                    .get_or_init(|| std::fs::read(&file.path).ok().map(Bytes::new))
                    .clone()?;
                Font::new(data, slot.index)
            })
            .clone()
    }
}

/// The fonts of this process, scanned on first use. The dossier renders hundreds of
/// pages and certificates come in batches, so a scan per document would dominate.
pub fn fonts() -> Result<&'static Fonts, PdfError> {
    static FONTS: OnceLock<Result<Fonts, String>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut dirs = vec![PathBuf::from(SYSTEM_FONT_DIR)];
            if let Some(extra) = std::env::var_os(FONT_DIR_ENV).filter(|v| !v.is_empty()) {
                dirs.push(PathBuf::from(extra));
            }
            load_fonts(&dirs)
        })
        .as_ref()
        .map_err(|msg| PdfError::Fonts(msg.clone()))
}

fn load_fonts(dirs: &[PathBuf]) -> Result<Fonts, String> {
    let mut paths = Vec::new();
    for dir in dirs {
        collect_font_paths(dir, &mut paths);
    }
    // A stable order keeps font selection the same from one run to the next.
    paths.sort();
    paths.dedup();

    let mut book = FontBook::new();
    let mut slots = Vec::new();
    let mut files = Vec::new();
    let mut families = HashSet::new();
    for path in paths {
        let Ok(data) = std::fs::read(&path) else {
            continue;
        };
        let file = files.len();
        let mut any = false;
        for (index, info) in FontInfo::iter(&data).enumerate() {
            families.insert(info.family.to_lowercase());
            book.push(info);
            slots.push(Slot {
                file,
                index: index as u32,
                font: OnceLock::new(),
            });
            any = true;
        }
        if any {
            files.push(FontFile {
                path,
                data: OnceLock::new(),
            });
        }
    }

    let present = |list: &[&str]| {
        list.iter()
            .find(|f| families.contains(&f.to_lowercase()))
            .map(|f| f.to_string())
    };
    let Some(sans) = present(SANS_FAMILIES).or_else(|| present(SERIF_FAMILIES)) else {
        let searched: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        return Err(format!(
            "no Chinese (CJK) font found under {} (looked for {}): install Debian's \
             fonts-noto-cjk package (apt-get install fonts-noto-cjk), or put the fonts in \
             the directory named by {FONT_DIR_ENV}",
            searched.join(" and "),
            SANS_FAMILIES.join(", "),
        ));
    };
    let serif = present(SERIF_FAMILIES).unwrap_or_else(|| sans.clone());
    Ok(Fonts {
        book: LazyHash::new(book),
        slots,
        files,
        families: Families { sans, serif },
    })
}

fn collect_font_paths(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        // Follows symlinks: Debian links some font directories into /usr/share/fonts.
        if path.is_dir() {
            collect_font_paths(&path, out);
        } else if path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
            matches!(
                e.to_ascii_lowercase().as_str(),
                "ttf" | "otf" | "ttc" | "otc"
            )
        }) {
            out.push(path);
        }
    }
}

fn library() -> &'static LazyHash<Library> {
    static LIBRARY: OnceLock<LazyHash<Library>> = OnceLock::new();
    LIBRARY.get_or_init(|| LazyHash::new(Library::default()))
}

fn file_id(path: &str) -> FileId {
    // Paths are interned for the life of the process (at most 65 535 of them), so
    // callers reuse a small fixed set of names ("/data.json", "/img/0", ...).
    let vpath = VirtualPath::new(path).expect("renderer paths are valid virtual paths");
    RootedPath::new(VirtualRoot::Project, vpath).intern()
}

/// A template with its inputs, ready to compile.
pub struct Job {
    template: &'static str,
    files: HashMap<FileId, Bytes>,
}

impl Job {
    /// `data` is what the template reads with `json("/data.json")`: user text reaches
    /// typst only as string values, never as markup, so it cannot inject anything.
    pub fn new(template: &'static str, data: &impl serde::Serialize) -> Result<Self, PdfError> {
        let mut job = Job {
            template,
            files: HashMap::new(),
        };
        let mut value = serde_json::to_value(data)?;
        strip_bidi_controls(&mut value);
        job.add_file("/data.json", serde_json::to_vec(&value)?);
        Ok(job)
    }

    pub fn add_file(&mut self, path: &str, bytes: Vec<u8>) {
        self.files.insert(file_id(path), Bytes::new(bytes));
    }

    pub fn render(self) -> Result<Vec<u8>, PdfError> {
        write_pdf(&self.layout()?)
    }

    pub fn layout(self) -> Result<PagedDocument, PdfError> {
        let fonts = fonts()?;
        let main = file_id("/main.typ");
        let world = JobWorld {
            fonts,
            main: Source::new(main, self.template.to_owned()),
            files: &self.files,
        };
        let doc = typst::compile::<PagedDocument>(&world).output;
        // typst memoises layout in a process-wide cache; renders here never repeat,
        // so keeping it would only grow a server's memory.
        typst::comemo::evict(0);
        doc.map_err(|d| PdfError::Typst(describe(&d)))
    }
}

pub fn write_pdf(doc: &PagedDocument) -> Result<Vec<u8>, PdfError> {
    let pdf = typst_pdf::pdf(doc, &typst_pdf::PdfOptions::default())
        .map_err(|d| PdfError::Typst(describe(&d)));
    typst::comemo::evict(0);
    pdf
}

/// A part of a longer document (pdf.rs joins the parts): untagged, since joining keeps
/// the pages and not each part's structure tree.
pub fn write_part(doc: &PagedDocument) -> Result<Vec<u8>, PdfError> {
    let options = typst_pdf::PdfOptions {
        tagged: false,
        ..Default::default()
    };
    let pdf = typst_pdf::pdf(doc, &options).map_err(|d| PdfError::Typst(describe(&d)));
    typst::comemo::evict(0);
    pdf
}

/// The pages (1-based, in document order) on which the elements labelled `label` sit.
pub fn label_pages(doc: &PagedDocument, label: &str) -> Vec<usize> {
    use typst::foundations::{Label, Selector};
    use typst::introspection::Introspector;
    let Some(label) = Label::new(typst::utils::PicoStr::intern(label)) else {
        return Vec::new();
    };
    let introspector = doc.introspector();
    introspector
        .query(&Selector::Label(label))
        .iter()
        .filter_map(|c| c.location())
        .filter_map(|loc| introspector.page(loc))
        .map(|p| p.get())
        .collect()
}

/// Drops explicit bidi embeddings, overrides and isolates from every string: one
/// U+202E in a name would otherwise print the rest of its line backwards, a
/// certificate number included. Chinese and English text never needs them.
fn strip_bidi_controls(value: &mut serde_json::Value) {
    use serde_json::Value;
    let is_control = |c: char| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    match value {
        Value::String(s) if s.contains(is_control) => s.retain(|c| !is_control(c)),
        Value::Array(items) => items.iter_mut().for_each(strip_bidi_controls),
        Value::Object(map) => map.values_mut().for_each(strip_bidi_controls),
        _ => {}
    }
}

fn describe(diags: &[SourceDiagnostic]) -> String {
    diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| {
            let mut s = d.message.to_string();
            for hint in &d.hints {
                s.push_str(" (hint: ");
                s.push_str(&hint.v);
                s.push(')');
            }
            s
        })
        .collect::<Vec<_>>()
        .join("; ")
}

struct JobWorld<'a> {
    fonts: &'static Fonts,
    main: Source,
    files: &'a HashMap<FileId, Bytes>,
}

impl World for JobWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        library()
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.fonts.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(not_found(id))
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        self.files.get(&id).cloned().ok_or_else(|| not_found(id))
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.font(index)
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        // Templates print the dates the caller formatted (Asia/Shanghai), never the clock.
        None
    }
}

fn not_found(id: FileId) -> FileError {
    FileError::NotFound(PathBuf::from(id.get().vpath().get_with_slash()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_cjk_font_names_the_package_to_install() {
        let empty = std::env::temp_dir().join(format!("jiaxiao-no-fonts-{}", std::process::id()));
        std::fs::create_dir_all(&empty).unwrap();
        let err = load_fonts(std::slice::from_ref(&empty))
            .err()
            .expect("no fonts, no success");
        std::fs::remove_dir(&empty).unwrap();
        assert!(err.contains("fonts-noto-cjk"), "{err}");
        assert!(err.contains(FONT_DIR_ENV), "{err}");
    }

    #[test]
    fn bidi_controls_are_dropped_from_every_string() {
        let mut v = serde_json::json!({"a": ["x\u{202E}y", {"b": "\u{2066}z\u{2069}"}], "n": 1});
        strip_bidi_controls(&mut v);
        assert_eq!(v, serde_json::json!({"a": ["xy", {"b": "z"}], "n": 1}));
    }
}
