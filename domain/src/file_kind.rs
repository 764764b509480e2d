//! What a file is, decided from its bytes: the name and the client's `Content-Type` are
//! never trusted (an executable renamed `.pdf` is still an executable).
//!
//! Office documents need a look inside: DOCX, XLSX, ODT and ODS are zip archives told apart
//! by the parts they hold; DOC and XLS are OLE compound files told apart by their streams.
//! Both looks are bounded (entry count, names only, at most the stored `mimetype` part).

use std::io::{Read, Seek, SeekFrom};

/// The media type of an XLSX workbook.
pub const XLSX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The first bytes of every zip archive (XLSX, DOCX, ODS, ODT): a local file header.
pub const ZIP_SIGNATURE: &[u8] = b"PK\x03\x04";

/// The kinds of evidence file the service knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileKind {
    Pdf,
    Docx,
    Xlsx,
    Doc,
    Xls,
    Odt,
    Ods,
    Jpeg,
    Png,
}

/// A zip with more entries than this is no office document we accept.
const MAX_ZIP_ENTRIES: usize = 10_000;

impl FileKind {
    pub const ALL: [FileKind; 9] = [
        FileKind::Pdf,
        FileKind::Docx,
        FileKind::Xlsx,
        FileKind::Doc,
        FileKind::Xls,
        FileKind::Odt,
        FileKind::Ods,
        FileKind::Jpeg,
        FileKind::Png,
    ];

    /// The name used in configuration (`PARINDEX_EVIDENCE_TYPES`) and messages.
    pub fn name(self) -> &'static str {
        match self {
            FileKind::Pdf => "pdf",
            FileKind::Docx => "docx",
            FileKind::Xlsx => "xlsx",
            FileKind::Doc => "doc",
            FileKind::Xls => "xls",
            FileKind::Odt => "odt",
            FileKind::Ods => "ods",
            FileKind::Jpeg => "jpeg",
            FileKind::Png => "png",
        }
    }

    pub fn parse(name: &str) -> Option<FileKind> {
        let name = name.trim().to_ascii_lowercase();
        let name = if name == "jpg" { "jpeg" } else { name.as_str() };
        FileKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The file name extensions of the kind, the usual one first.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            FileKind::Pdf => &["pdf"],
            FileKind::Docx => &["docx"],
            FileKind::Xlsx => &["xlsx"],
            FileKind::Doc => &["doc"],
            FileKind::Xls => &["xls"],
            FileKind::Odt => &["odt"],
            FileKind::Ods => &["ods"],
            FileKind::Jpeg => &["jpg", "jpeg"],
            FileKind::Png => &["png"],
        }
    }

    /// `name` with an extension of this kind: kept when it has one, else the usual one is
    /// added (`Bao cao.bat` holding a PDF → `Bao cao.bat.pdf`). A name cannot lie about
    /// what opening the file runs: the extension a desktop trusts is the content's.
    pub fn file_name(self, name: &str) -> String {
        let ext = name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        if self.extensions().contains(&ext.as_str()) {
            name.to_string()
        } else {
            format!("{name}.{}", self.extensions()[0])
        }
    }

    /// The kind whose media type is `media_type` (as stored with a file).
    pub fn of_media_type(media_type: &str) -> Option<FileKind> {
        FileKind::ALL
            .into_iter()
            .find(|k| k.media_type() == media_type)
    }

    pub fn media_type(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileKind::Xlsx => XLSX_CONTENT_TYPE,
            FileKind::Doc => "application/msword",
            FileKind::Xls => "application/vnd.ms-excel",
            FileKind::Odt => "application/vnd.oasis.opendocument.text",
            FileKind::Ods => "application/vnd.oasis.opendocument.spreadsheet",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Png => "image/png",
        }
    }
}

/// The kind of the file `f` holds, or `None` when it is none of the known kinds (or an
/// unreadable specimen of one).
pub fn sniff<F: Read + Seek>(mut f: F) -> Option<FileKind> {
    let mut head = [0u8; 8];
    let n = read_up_to(&mut f, &mut head);
    let head = &head[..n];
    if head.starts_with(b"%PDF-") {
        return Some(FileKind::Pdf);
    }
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(FileKind::Jpeg);
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(FileKind::Png);
    }
    f.seek(SeekFrom::Start(0)).ok()?;
    if head.starts_with(ZIP_SIGNATURE) {
        return sniff_zip(f);
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return sniff_ole(f);
    }
    None
}

fn read_up_to<R: Read>(r: &mut R, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    n
}

fn sniff_zip<F: Read + Seek>(f: F) -> Option<FileKind> {
    let mut archive = zip::ZipArchive::new(f).ok()?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return None;
    }
    // OpenDocument: a first, stored part `mimetype` naming the kind.
    if let Ok(mut part) = archive.by_name("mimetype") {
        let mut kind = [0u8; 64];
        let n = read_up_to(&mut part, &mut kind);
        return match &kind[..n] {
            b"application/vnd.oasis.opendocument.text" => Some(FileKind::Odt),
            b"application/vnd.oasis.opendocument.spreadsheet" => Some(FileKind::Ods),
            _ => None,
        };
    }
    let has = |name: &str| archive.index_for_name(name).is_some();
    if !has("[Content_Types].xml") {
        return None;
    }
    if has("word/document.xml") {
        Some(FileKind::Docx)
    } else if has("xl/workbook.xml") {
        Some(FileKind::Xlsx)
    } else {
        None
    }
}

fn sniff_ole<F: Read + Seek>(f: F) -> Option<FileKind> {
    let ole = cfb::CompoundFile::open(f).ok()?;
    if ole.is_stream("/WordDocument") {
        Some(FileKind::Doc)
    } else if ole.is_stream("/Workbook") || ole.is_stream("/Book") {
        Some(FileKind::Xls)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_takes_the_extension_of_the_content() {
        assert_eq!(FileKind::Pdf.file_name("Bao cao.bat"), "Bao cao.bat.pdf");
        assert_eq!(FileKind::Pdf.file_name("Bao cao.PDF"), "Bao cao.PDF");
        assert_eq!(FileKind::Pdf.file_name("x.hta"), "x.hta.pdf");
        assert_eq!(FileKind::Jpeg.file_name("anh.jpg"), "anh.jpg");
        assert_eq!(FileKind::Jpeg.file_name("anh.html"), "anh.html.jpg");
        assert_eq!(FileKind::Docx.file_name("ke-hoach"), "ke-hoach.docx");
        assert_eq!(
            FileKind::of_media_type("application/pdf"),
            Some(FileKind::Pdf)
        );
    }
    use std::io::{Cursor, Write};

    fn zip_with(parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, bytes) in parts {
            w.start_file(*name, stored).expect("entry");
            w.write_all(bytes).expect("write");
        }
        w.finish().expect("finish").into_inner()
    }

    #[test]
    fn kinds_come_from_the_bytes() {
        let kind = |b: &[u8]| sniff(Cursor::new(b.to_vec()));
        assert_eq!(kind(b"%PDF-1.4\n..."), Some(FileKind::Pdf));
        assert_eq!(kind(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some(FileKind::Jpeg));
        assert_eq!(kind(b"\x89PNG\r\n\x1a\n\0\0"), Some(FileKind::Png));
        assert_eq!(kind(b"MZ\x90\0 an executable"), None);
        assert_eq!(kind(b"\x7fELF\x02\x01\x01"), None);
        assert_eq!(kind(b""), None);
        assert_eq!(kind(b"<html><script>"), None);
        let docx = zip_with(&[
            ("[Content_Types].xml", b"<x/>"),
            ("word/document.xml", b"<w/>"),
        ]);
        assert_eq!(kind(&docx), Some(FileKind::Docx));
        let xlsx = zip_with(&[
            ("[Content_Types].xml", b"<x/>"),
            ("xl/workbook.xml", b"<w/>"),
        ]);
        assert_eq!(kind(&xlsx), Some(FileKind::Xlsx));
        let odt = zip_with(&[("mimetype", b"application/vnd.oasis.opendocument.text")]);
        assert_eq!(kind(&odt), Some(FileKind::Odt));
        let ods = zip_with(&[(
            "mimetype",
            b"application/vnd.oasis.opendocument.spreadsheet",
        )]);
        assert_eq!(kind(&ods), Some(FileKind::Ods));
        // A plain zip (or a jar, an apk) is not an office document.
        let plain = zip_with(&[("run.exe", b"MZ")]);
        assert_eq!(kind(&plain), None);
        // A truncated zip is unreadable, not a document.
        assert_eq!(kind(&docx[..docx.len() / 2]), None);
    }

    #[test]
    fn ole_files_are_told_apart_by_their_streams() {
        let ole = |stream: &str| {
            let mut c = cfb::CompoundFile::create(Cursor::new(Vec::new())).expect("create");
            c.create_stream(stream)
                .expect("stream")
                .write_all(b"x")
                .expect("write");
            c.flush().expect("flush");
            c.into_inner().into_inner()
        };
        assert_eq!(
            sniff(Cursor::new(ole("/WordDocument"))),
            Some(FileKind::Doc)
        );
        assert_eq!(sniff(Cursor::new(ole("/Workbook"))), Some(FileKind::Xls));
        assert_eq!(sniff(Cursor::new(ole("/Other"))), None);
    }

    #[test]
    fn configuration_names_parse() {
        assert_eq!(FileKind::parse("JPG"), Some(FileKind::Jpeg));
        assert_eq!(FileKind::parse(" pdf "), Some(FileKind::Pdf));
        assert_eq!(FileKind::parse("exe"), None);
        for k in FileKind::ALL {
            assert_eq!(FileKind::parse(k.name()), Some(k));
        }
    }
}
