//! Report renderings for people and spreadsheets: a capinfos-like text summary and flow CSV.
//! (JSON is the serde form of [`Report`] itself; `json_report` writes it with flows rendered
//! while they are made.)

use crate::analysis::report::{CaptureReport, FlowReport};
use crate::analysis::Report;
use std::io::{self, Write};

/// Formats an integer with thousands separators: 1234567 → "1,234,567".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Human-readable size: 1536 → "1.5 KiB".
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    let name = UNITS.get(unit).copied().unwrap_or("B");
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {name}")
    }
}

fn duration_secs(c: &CaptureReport) -> Option<f64> {
    Some((c.last_seen?.0 - c.first_seen?.0) as f64 / 1e9)
}

/// A capinfos-like header per capture, then the `top` largest flows (0 = none).
pub fn write_text(report: &Report, out: &mut dyn Write, top: usize) -> io::Result<()> {
    for c in &report.captures {
        writeln!(out, "File:              {}", c.file)?;
        writeln!(out, "Format:            {}", c.format)?;
        writeln!(out, "File size:         {} ({} bytes)", human_bytes(c.file_bytes), thousands(c.file_bytes))?;
        writeln!(out, "Packets:           {}", thousands(c.packets))?;
        writeln!(out, "Bytes on wire:     {} ({} bytes)", human_bytes(c.bytes), thousands(c.bytes))?;
        if let (Some(first), Some(last)) = (c.first_seen, c.last_seen) {
            writeln!(out, "First packet:      {}", first.to_rfc3339())?;
            writeln!(out, "Last packet:       {}", last.to_rfc3339())?;
            writeln!(out, "Duration:          {:.6} s", duration_secs(c).unwrap_or(0.0))?;
        }
        for l in &c.link_types {
            let note = if l.decoded { "" } else { "  (not decoded)" };
            writeln!(
                out,
                "Link type:         {} ({}), {} interface(s), {} packets{note}",
                l.name,
                l.link_type,
                l.interfaces,
                thousands(l.packets)
            )?;
        }
        let tcp = c.flows.iter().filter(|f| f.proto == "tcp").count() as u64;
        let udp = c.flows.len() as u64 - tcp;
        writeln!(
            out,
            "Flows:             {} ({} TCP, {} UDP)",
            thousands(c.flows.len() as u64),
            thousands(tcp),
            thousands(udp)
        )?;
        if c.flow_table.flows_evicted > 0 {
            writeln!(
                out,
                "Flows evicted:     {} (table limit {}; {} packets in them)",
                thousands(c.flow_table.flows_evicted),
                thousands(c.flow_table.max_flows as u64),
                thousands(c.flow_table.packets_in_evicted_flows)
            )?;
        }
        let tor = c.flows.iter().filter(|f| f.verdict != "none").count() as u64;
        writeln!(out, "Tor flows:         {}", thousands(tor))?;
        for (kind, n) in &c.anomalies {
            writeln!(out, "Anomaly:           {kind}: {}", thousands(*n))?;
        }
        for comment in &c.comments {
            writeln!(out, "Comment ({}):  {}", comment.on, comment.text.escape_debug())?;
        }
        if let Some(e) = &c.error {
            writeln!(out, "Error:             {e}")?;
        }
        if top > 0 && !c.flows.is_empty() {
            let mut flows: Vec<&FlowReport> = c.flows.iter().collect();
            flows.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.first_seen.cmp(&b.first_seen)));
            writeln!(out, "\nTop flows by bytes:")?;
            writeln!(
                out,
                "  {:<5} {:<47} {:<47} {:>9} {:>12}  verdict",
                "proto", "client", "server", "packets", "bytes"
            )?;
            for f in flows.iter().take(top) {
                writeln!(
                    out,
                    "  {:<5} {:<47} {:<47} {:>9} {:>12}  {}",
                    f.proto,
                    f.client.to_string(),
                    f.server.to_string(),
                    thousands(f.packets),
                    thousands(f.bytes),
                    f.verdict
                )?;
            }
        }
        writeln!(out)?;
    }
    Ok(())
}

/// A CSV cell, quoted when needed, with spreadsheet formula triggers neutralised (a cell that
/// starts with `=`, `+`, `-` or `@` gets a leading apostrophe): capture contents are hostile.
pub fn csv_cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) { format!("'{text}") } else { text.to_string() };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

pub const CSV_HEADER: &str = "file,proto,client,server,packets,bytes,client_packets,client_bytes,\
server_packets,server_bytes,first_seen,last_seen,verdict,confidence,evidence,community_id";

/// One row per flow, every capture in one table.
pub fn write_csv(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{CSV_HEADER}")?;
    for c in &report.captures {
        for f in &c.flows {
            let flow = serde_json::to_value(f).map_err(io::Error::other)?;
            writeln!(out, "{}", csv_row_from_json(&c.file, &flow))?;
        }
    }
    Ok(())
}

/// One CSV row from a flow in its JSON form (the CLI and the page's export share this).
pub fn csv_row_from_json(file: &str, f: &serde_json::Value) -> String {
    let text = |v: &serde_json::Value| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
    let num = |v: &serde_json::Value| v.as_u64().unwrap_or(0).to_string();
    let cells = [
        csv_cell(file),
        text(&f["proto"]),
        csv_cell(&text(&f["client"])),
        csv_cell(&text(&f["server"])),
        num(&f["packets"]),
        num(&f["bytes"]),
        num(&f["to_server"]["packets"]),
        num(&f["to_server"]["bytes"]),
        num(&f["to_client"]["packets"]),
        num(&f["to_client"]["bytes"]),
        text(&f["first_seen"]),
        text(&f["last_seen"]),
        text(&f["verdict"]),
        f["confidence"].as_str().unwrap_or("").to_string(),
        csv_cell(&f["evidence"].to_string()),
        text(&f["community_id"]),
    ];
    cells.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(human_bytes(1536), "1.5 KiB");
    }

    #[test]
    fn csv_neutralises_formulas() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("10.0.0.1:443"), "10.0.0.1:443");
    }
}
