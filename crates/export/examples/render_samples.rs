//! Writes one sample of each PDF into a directory, for a person to open and look at.
//!
//! `cargo run -p jiaxiao-export --example render_samples -- OUT_DIR [--bench [NAMES]]`
//! `--bench` also times a full-year dossier: 40 sessions of NAMES (500) names and 2 photos each,
//! and with `ROWS=N` in the environment a table of N rows × 8 columns after them.

#[path = "../tests/samples/mod.rs"]
mod samples;

use std::path::PathBuf;
use std::time::Instant;

use jiaxiao_export::pdf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = PathBuf::from(
        args.first()
            .ok_or("usage: render_samples OUT_DIR [--bench [NAMES]]")?,
    );
    let bench = args.iter().position(|a| a == "--bench").map(|i| {
        args.get(i + 1)
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(500)
    });
    std::fs::create_dir_all(&dir)?;

    let t = Instant::now();
    let bytes = pdf::signin_sheet(&samples::signin(45))?;
    std::fs::write(dir.join("signin.pdf"), bytes)?;
    println!("signin.pdf: {:?} (includes loading fonts)", t.elapsed());

    let t = Instant::now();
    let seal = samples::seal_png();
    let certs: Vec<_> = (0..3)
        .map(|i| samples::certificate(&samples::name(i), i + 1, Some(seal.clone())))
        .collect();
    std::fs::write(dir.join("certificates.pdf"), pdf::certificates(&certs)?)?;
    println!("certificates.pdf: {:?}", t.elapsed());

    let t = Instant::now();
    let bytes = pdf::dossier(&samples::dossier(3, 120, 3), &mut |_, _| {})?;
    std::fs::write(dir.join("dossier.pdf"), bytes)?;
    println!("dossier.pdf: {:?}", t.elapsed());

    let t = Instant::now();
    std::fs::write(
        dir.join("run_sheet.pdf"),
        pdf::run_sheet(&samples::run_sheet())?,
    )?;
    println!("run_sheet.pdf: {:?}", t.elapsed());

    let t = Instant::now();
    std::fs::write(
        dir.join("notice.pdf"),
        pdf::excellence_notice(&samples::notice())?,
    )?;
    println!("notice.pdf: {:?}", t.elapsed());

    if let Some(names) = bench {
        let mut model = samples::dossier(40, names, 2);
        let rows: usize = std::env::var("ROWS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(0);
        model.tables.push(pdf::DossierTable {
            title: "学员".into(),
            note: String::new(),
            headers: (0..8).map(|c| format!("列{c}")).collect(),
            rows: (0..rows)
                .map(|r| {
                    (0..8)
                        .map(|c| {
                            if c == 0 {
                                samples::name(r)
                            } else {
                                format!("{}", r * c)
                            }
                        })
                        .collect()
                })
                .collect(),
        });
        let t = Instant::now();
        let mut last = Instant::now();
        let bytes = pdf::dossier(&model, &mut |done, total| {
            if done + 2 >= total {
                println!("  step {done}/{total} after {:?}", last.elapsed());
                last = Instant::now();
            }
        })?;
        println!(
            "dossier, 40 sessions x {names} names x 2 photos: {:?}, {} KiB",
            t.elapsed(),
            bytes.len() / 1024
        );
        std::fs::write(dir.join("dossier-bench.pdf"), bytes)?;
    }
    Ok(())
}
