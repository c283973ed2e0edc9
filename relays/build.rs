//! Build script: compiles every relay-list snapshot in `relays/sources/` into one index blob
//! (`$OUT_DIR/relays.idx`), embedded by `src/analysis/tor/relays`, and Tor Browser's built-in
//! bridge configurations in `relays/sources/bridges/` into dated listings
//! (`$OUT_DIR/bridges.tsv`), embedded by `src/analysis/tor/bridges`. The parsers and the blob
//! format are the runtime's own files, included here, so build time and run time agree.
//! Never touches the network; a bad source line fails the build with `file:line: reason`.
//! With no sources the index is empty, and the CLI and page say so.

#[path = "../src/analysis/tor/relays/blob.rs"]
#[allow(dead_code)]
mod blob;
#[path = "../src/analysis/tor/bridges/config.rs"]
#[allow(dead_code)]
mod config;
#[path = "../src/analysis/tor/relays/key.rs"]
#[allow(dead_code)]
mod key;
#[path = "../src/analysis/tor/relays/list.rs"]
#[allow(dead_code)]
mod list;
#[path = "../src/analysis/tor/bridges/listing.rs"]
#[allow(dead_code)]
mod listing;
#[path = "../src/analysis/tor/name_training.rs"]
mod name_training;
#[path = "../src/analysis/tor/bridges/packed.rs"]
#[allow(dead_code)]
mod packed;
#[path = "../src/analysis/tor/history/shard.rs"]
#[allow(dead_code)]
mod shard;
#[path = "../src/analysis/tor/history/tsv.rs"]
#[allow(dead_code)]
mod tsv;

use std::path::{Path, PathBuf};

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            // Bridge configurations and the relay history are not relay lists: `bridge_index`
            // and `history_shards` read them.
            if path.file_name().is_some_and(|n| n == "bridges" || n == "history") {
                continue;
            }
            files_under(&path, out);
        } else if !matches!(path.extension().and_then(|e| e.to_str()), Some("md")) {
            out.push(path);
        }
    }
}

/// The English word list the label model (`src/analysis/tor/name_model.rs`) learns from:
/// Debian's `wamerican` (`/usr/share/dict/words`), or the file `TORSIFT_WORDLIST` names.
fn word_list() -> Result<String, Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-env-changed=TORSIFT_WORDLIST");
    let path = std::env::var("TORSIFT_WORDLIST").unwrap_or_else(|_| "/usr/share/dict/words".to_string());
    println!("cargo:rerun-if-changed={path}");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "{path}: {e}. The SNI label model is trained on an English word list: install Debian's \
             `wamerican` (apt-get install wamerican; tests/setup.sh does) or set TORSIFT_WORDLIST to a \
             file with one word per line"
        )
    })?;
    if text.lines().count() < 10_000 {
        return Err(format!("{path}: fewer than 10,000 words; the SNI label model needs a full word list").into());
    }
    Ok(text)
}

/// Tor Browser's bridge configuration files (`<date>_<commit>_<file name>`, see
/// `relays/sources/bridges/README.md` when fetched from ../shared) → dated listings.
fn bridge_index(dir: &Path) -> Result<String, Box<dyn std::error::Error>> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|entries| entries.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    files.retain(|p| p.is_file() && !matches!(p.extension().and_then(|e| e.to_str()), Some("md")));
    files.sort();
    let mut configs = Vec::new();
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let text = std::fs::read_to_string(file)?;
        configs.push(config::parse(&name, &text).map_err(|e| format!("relays/sources/bridges/{e}"))?);
    }
    let listings = listing::compile(&configs).map_err(|e| format!("relays/sources/bridges/{e}"))?;
    Ok(packed::write(&listings))
}

/// A history file, gunzipped when its name ends in `.gz`; `None` when absent.
fn read_history_file(dir: &Path, name: &str) -> Result<Option<(String, String)>, Box<dyn std::error::Error>> {
    use std::io::Read;
    for file in [name.to_string(), format!("{name}.gz")] {
        let path = dir.join(&file);
        // Only paths that exist: cargo reruns a build script on every build while a
        // rerun-if-changed path is missing (the directory itself catches new files).
        let Ok(bytes) = std::fs::read(&path) else { continue };
        println!("cargo:rerun-if-changed={}", path.display());
        let mut text = String::new();
        if file.ends_with(".gz") {
            flate2::read::MultiGzDecoder::new(&bytes[..])
                .read_to_string(&mut text)
                .map_err(|e| format!("relays/sources/history/{file}: {e}"))?;
        } else {
            text = String::from_utf8(bytes).map_err(|e| format!("relays/sources/history/{file}: {e}"))?;
        }
        return Ok(Some((format!("relays/sources/history/{file}"), text)));
    }
    Ok(None)
}

/// The relay history in `relays/sources/history/` (see `src/analysis/tor/history/tsv.rs`) →
/// one shard per year, concatenated behind a directory: magic `TSRHA`, u16 count, then per
/// shard year u16 and length u32, then the shards in that order.
fn history_shards(dir: &Path) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    if dir.is_dir() {
        println!("cargo:rerun-if-changed={}", dir.display());
    }
    let mut input = tsv::HistoryInput::default();
    if let Some((file, text)) = read_history_file(dir, "coverage.tsv")? {
        input.add_coverage(&file, &text)?;
    }
    for (name, with_port) in [("relay-history-ip.tsv", false), ("relay-history-orport.tsv", true)] {
        if let Some((file, text)) = read_history_file(dir, name)? {
            input.add_intervals(&file, &text, with_port, key::encode)?;
        }
    }
    let shards = shard::write_years(&input)?;
    let mut out = b"TSRHA".to_vec();
    out.extend_from_slice(&(shards.len() as u16).to_le_bytes());
    for (year, bytes) in &shards {
        out.extend_from_slice(&(*year as u16).to_le_bytes());
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    }
    for (_, bytes) in &shards {
        out.extend_from_slice(bytes);
    }
    Ok(out)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let sources = root.join("relays/sources");
    println!("cargo:rerun-if-changed=relays/sources");
    println!("cargo:rerun-if-changed=src/analysis/tor/relays");
    let mut files = Vec::new();
    files_under(&sources, &mut files);
    files.sort();
    let mut lists = Vec::new();
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let name = file.strip_prefix(&sources).unwrap_or(file).to_string_lossy().replace('\\', "/");
        let bytes = std::fs::read(file)?;
        let text = String::from_utf8_lossy(&bytes);
        let list = list::parse(&name, &text).map_err(|e| format!("relays/sources/{e}"))?;
        lists.push(list);
    }
    let blob = blob::build(&lists)?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("relays.idx"), &blob)?;
    std::fs::write(out.join("name_bigrams.bin"), name_training::train(&word_list()?))?;
    std::fs::write(out.join("bridges.tsv"), bridge_index(&sources.join("bridges"))?)?;
    std::fs::write(out.join("history.bin"), history_shards(&sources.join("history"))?)?;
    Ok(())
}
