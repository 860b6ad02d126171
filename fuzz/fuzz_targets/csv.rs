//! Text rosters: the bytes as uploaded, the same with a UTF-8 BOM, and (when they are
//! UTF-8) re-encoded as GBK, each read and, when readable, checked row by row.
#![no_main]

use jiaxiao_domain::roster;
use libfuzzer_sys::fuzz_target;

fn read_and_check(bytes: &[u8]) {
    // Uploads are checked while they are read (`check_file`); where the table path finds
    // a complete header, both must agree row for row.
    let streamed = roster::check_file(bytes, None, true);
    if let Ok(table) = roster::read_table(bytes)
        && let Some(guess) = roster::detect_header(&table)
    {
        let parsed = roster::parse_rows(&table, guess.header_index, &guess.mapping);
        if guess.missing_required().is_empty() {
            let (_, s) = streamed.expect("read as a table, so read while checking");
            assert_eq!(s.rows, parsed.rows);
            assert_eq!(s.rejected, parsed.rejected);
            assert_eq!(s.duplicates, parsed.duplicates);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // XLSX has its own targets; here every input is text.
    if data.starts_with(b"PK\x03\x04") {
        return;
    }
    read_and_check(data);
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(data);
    read_and_check(&bom);
    if let Ok(text) = std::str::from_utf8(data) {
        read_and_check(&encoding_rs::GBK.encode(text).0);
    }
});
