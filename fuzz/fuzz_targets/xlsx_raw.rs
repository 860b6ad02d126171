//! Whole uploaded files as bytes, seeded with real workbooks: the zip directory, the
//! archive checks before calamine, and calamine's opening of the parts.
#![no_main]

use jiaxiao_domain::roster;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = roster::read_table(data);
});
