//! The server's own XLSX answers read back in tests cell by cell. calamine's
//! `worksheet_range` first allocates the rows × columns a sheet *declares*, which no reader
//! in this project trusts (docs/SECURITY.md), tests included: a sheet is kept whole up to
//! `MAX_CELLS`, or streamed a row at a time with `each_row`.

use std::io::{Read, Seek};

pub use calamine::{Data, Reader, Xlsx};

/// The most cells a sheet kept whole may hold (a test's exports are far smaller; a year of
/// check-ins is streamed with `each_row`).
pub const MAX_CELLS: usize = 1_000_000;

/// Opens a downloaded workbook.
pub fn open(bytes: Vec<u8>) -> Xlsx<std::io::Cursor<Vec<u8>>> {
    assert!(bytes.starts_with(b"PK"), "not an XLSX");
    Xlsx::new(std::io::Cursor::new(bytes)).expect("XLSX opens")
}

/// A sheet read whole: every row from the first (0) to the last that holds a cell, each
/// as wide as the widest, empty cells `Data::Empty` — as `worksheet_range` would give.
pub struct Sheet {
    rows: Vec<Vec<Data>>,
}

impl Sheet {
    pub fn read<R: Read + Seek>(wb: &mut Xlsx<R>, name: &str) -> Sheet {
        let mut rows: Vec<Vec<Data>> = Vec::new();
        let mut cells = 0;
        each_row(wb, name, |r, row| {
            cells += row.len();
            assert!(
                cells <= MAX_CELLS,
                "sheet {name} holds more than {MAX_CELLS} cells"
            );
            rows.resize(r as usize, Vec::new());
            rows.push(row);
        });
        let width = rows.iter().map(Vec::len).max().unwrap_or(0);
        for row in &mut rows {
            row.resize(width, Data::Empty);
        }
        Sheet { rows }
    }

    /// The first sheet of a downloaded workbook.
    pub fn first(bytes: Vec<u8>) -> Sheet {
        let mut wb = open(bytes);
        let name = wb.sheet_names()[0].clone();
        Sheet::read(&mut wb, &name)
    }

    pub fn rows(&self) -> &[Vec<Data>] {
        &self.rows
    }

    /// Every row as the text of its cells.
    pub fn text_rows(&self) -> Vec<Vec<String>> {
        self.rows
            .iter()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect()
    }

    pub fn height(&self) -> usize {
        self.rows.len()
    }

    pub fn get_value(&self, (row, col): (u32, u32)) -> Option<&Data> {
        self.rows.get(row as usize)?.get(col as usize)
    }

    pub fn cells(&self) -> impl Iterator<Item = &Data> {
        self.rows.iter().flatten()
    }
}

/// Streams a sheet a row at a time, in order: `f(row index, its cells from column 0)`.
/// Rows without a cell are not called.
pub fn each_row<R: Read + Seek>(wb: &mut Xlsx<R>, name: &str, mut f: impl FnMut(u32, Vec<Data>)) {
    let mut reader = wb.worksheet_cells_reader(name).expect("sheet");
    let mut current: Option<(u32, Vec<Data>)> = None;
    while let Some(cell) = reader.next_cell().expect("cell") {
        let (r, c) = cell.get_position();
        if current.as_ref().is_some_and(|(cr, _)| *cr != r) {
            let (cr, row) = current.take().expect("a row");
            f(cr, row);
        }
        let (_, row) = current.get_or_insert_with(|| (r, Vec::new()));
        if row.len() <= c as usize {
            row.resize(c as usize + 1, Data::Empty);
        }
        row[c as usize] = Data::from(cell.get_value().clone());
    }
    if let Some((r, row)) = current {
        f(r, row);
    }
}
