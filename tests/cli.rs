//! The command line: exit status, the JSON contract, CSV and text.

mod support;

use std::process::Command;
use support::*;

fn torsift(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_torsift")).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn capture(rel: &str) -> String {
    shared_dir().join("captures").join(rel).to_string_lossy().into_owned()
}

#[test]
fn json_contract_and_batch() {
    let a = capture("public/tor/ndpi_tor_2013-11-07.pcap");
    let b = capture("public/formats/zeek_pcapng-multi-interface.pcapng");
    let (code, out, _) = torsift(&["analyze", "--format", "json", &a, &b]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["schema"], "torsift.report/1");
    let caps = v["captures"].as_array().unwrap();
    assert_eq!(caps.len(), 2);
    let c = &caps[0];
    assert_eq!(c["file"], a.as_str());
    assert_eq!(c["format"], "pcap");
    assert_eq!(c["packets"].as_u64(), capinfos_packets(std::path::Path::new(&a)));
    assert_eq!(c["first_seen"], "2013-11-07T10:54:20.212806Z"); // capinfos: first packet time
    assert!(c["error"].is_null());
    assert!(c["anomalies"].is_object());
    assert!(c["link_types"].is_array());
    let f = &c["flows"][0];
    for key in [
        "proto",
        "client",
        "server",
        "packets",
        "bytes",
        "first_seen",
        "last_seen",
        "verdict",
        "confidence",
        "evidence",
    ] {
        assert!(f.get(key).is_some(), "flow field {key} missing");
    }
    assert_eq!(caps[1]["format"], "pcapng");
}

/// `--format json` renders each file's flows on a second thread, into a temporary file, and
/// splices them into the report: its bytes must be exactly serde_json's pretty form of the
/// library's own report of the same files (real Tor flows with evidence, stream summaries and
/// relay matches; pcapng; a file that is no capture; a missing file; a file with no flows).
#[test]
fn json_is_serde_jsons_pretty_report_byte_for_byte() {
    let empty = std::env::temp_dir().join(format!("torsift-empty-{}.pcap", std::process::id()));
    std::fs::write(&empty, pcap_of(&[])).unwrap();
    let files = [
        capture("lab/tor-02-client-fetch.pcap"),
        capture("public/formats/zeek_pcapng-multi-interface.pcapng"),
        capture("public/edge/pcapparser_err-eof_not-a-capture.bin"),
        "/nonexistent/file.pcap".to_string(),
        empty.to_string_lossy().into_owned(),
        capture("public/tor/ndpi_tor_2013-11-07.pcap"),
    ];
    let args: Vec<&str> = ["analyze", "--format", "json"].into_iter().chain(files.iter().map(String::as_str)).collect();
    let (code, out, _) = torsift(&args);
    assert_eq!(code, 1, "two of the files cannot be read");
    let relays = std::sync::Arc::new(torsift::analysis::tor::relays::RelayIndex::builtin());
    let captures: Vec<_> =
        files.iter().map(|f| torsift::files::analyze_path(f, &torsift::analysis::Limits::default(), &relays)).collect();
    std::fs::remove_file(&empty).ok();
    let tor_flows = captures[0].flows.iter().filter(|f| f.verdict.starts_with("tor")).count();
    assert!(tor_flows > 0, "the lab capture's Tor flows carry evidence to render");
    let mut expected = serde_json::to_string_pretty(&torsift::analysis::Report::new(captures, &relays)).unwrap();
    expected.push('\n');
    assert!(out == expected, "the CLI's JSON differs from serde_json's (lengths {} and {})", out.len(), expected.len());
}

#[test]
fn exit_status_reflects_damage_and_usage() {
    let (code, out, err) = torsift(&["analyze", &capture("public/edge/pcapparser_err-eof_not-a-capture.bin")]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["captures"][0]["error"]["offset"], 0);
    assert!(err.contains("not-a-capture.bin"), "{err}");
    let (code, _, _) = torsift(&["analyze", "/nonexistent/file.pcap"]);
    assert_eq!(code, 1);
    assert_eq!(torsift(&["analyze"]).0, 2);
    assert_eq!(torsift(&["analyze", "--format", "xml", "x"]).0, 2);
    assert_eq!(torsift(&["frobnicate"]).0, 2);
}

#[test]
fn csv_has_one_row_per_flow_and_text_reads_like_capinfos() {
    let a = capture("public/formats/zeek_tunnels_vxlan.pcap");
    let (code, out, _) = torsift(&["analyze", "--format", "csv", &a]);
    assert_eq!(code, 0);
    let tshark_flows = tshark_conv_frames(std::path::Path::new(&a), true).len();
    assert_eq!(out.lines().count(), 1 + tshark_flows);
    assert!(out.starts_with("file,proto,client,server,packets,bytes"));
    let (code, out, _) = torsift(&["analyze", "--format", "text", &a]);
    assert_eq!(code, 0);
    assert!(out.contains("Packets:           10"), "{out}");
    let (code, out, _) = torsift(&["info", &a]);
    assert_eq!(code, 0);
    assert!(out.contains("Link type:         ETHERNET (1)"), "{out}");
}

#[test]
fn generated_capture_agrees_with_capinfos_and_tshark() {
    let dir = std::env::temp_dir().join(format!("torsift-gen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for fmt in ["pcap", "pcapng"] {
        let path = dir.join(format!("gen.{fmt}"));
        let p = path.to_string_lossy().to_string();
        let (code, _, err) =
            torsift(&["generate", "--format", fmt, "--packets", "2000", "--flows", "150", "--payload", "300", &p]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(capinfos_packets(&path), Some(2000));
        let report = analyze_file(&path, 65536);
        assert_eq!(torsift_conversations(&report), tshark_conversations(&path, true));
        assert_eq!(report.flows.len(), 150);
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// `--format ndjson` says what `--format json` says, one object per line, in input order, with
/// a flat record beside each flow; several files (analysed in parallel) keep their order.
#[test]
fn ndjson_is_the_json_report_line_by_line() {
    let files = [
        capture("public/tor/linkia_tor_2019-11-02.pcapng"),
        capture("public/tor/ndpi_tor_2013-11-07.pcap"),
        capture("public/formats/zeek_pcapng-multi-interface.pcapng"),
        capture("lab/tor-04-mixed.pcap"),
    ];
    let args = |format: &'static str| {
        let mut a = vec!["analyze", "--format", format];
        a.extend(files.iter().map(String::as_str));
        a
    };
    let (code, json, _) = torsift(&args("json"));
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let (code, ndjson, _) = torsift(&args("ndjson"));
    assert_eq!(code, 0);
    let lines: Vec<serde_json::Value> = ndjson.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let header = &lines[0];
    assert_eq!(header["type"], "header");
    for key in ["schema", "generator", "relay_lists", "notes"] {
        assert_eq!(header[key], json[key], "{key}");
    }
    let mut at = 1;
    for (i, capture) in json["captures"].as_array().unwrap().iter().enumerate() {
        assert_eq!(capture["file"], files[i].as_str(), "input order");
        for flow in capture["flows"].as_array().unwrap() {
            let line = &lines[at];
            at += 1;
            assert_eq!(line["type"], "flow");
            assert_eq!(&line["flow"], flow);
            assert_eq!(line["capture"], capture["file"]);
            assert_eq!(line["community_id"], flow["community_id"]);
            let endpoint = |ip: &serde_json::Value, port: &serde_json::Value| {
                let ip = ip.as_str().unwrap();
                if ip.contains(':') {
                    format!("[{ip}]:{port}")
                } else {
                    format!("{ip}:{port}")
                }
            };
            assert_eq!(endpoint(&line["client_ip"], &line["client_port"]), flow["client"].as_str().unwrap());
            assert_eq!(endpoint(&line["server_ip"], &line["server_port"]), flow["server"].as_str().unwrap());
            assert_eq!(line["bytes"], flow["bytes"]);
            assert_eq!(line["verdict"], flow["verdict"]);
            let kinds: Vec<&serde_json::Value> =
                flow["evidence"].as_array().unwrap().iter().map(|e| &e["kind"]).collect();
            assert_eq!(line["evidence_kinds"].as_array().unwrap().iter().collect::<Vec<_>>(), kinds);
        }
        let summary = &lines[at];
        at += 1;
        assert_eq!(summary["type"], "capture");
        assert_eq!(summary["flow_count"].as_u64().unwrap() as usize, capture["flows"].as_array().unwrap().len());
        let mut expected = capture.clone();
        expected.as_object_mut().unwrap().remove("flows");
        let mut got = summary.clone();
        for key in ["type", "flow_count"] {
            got.as_object_mut().unwrap().remove(key);
        }
        // ndjson's table is smaller by default (it reports what it evicts; none here).
        assert!(got["flow_table"]["max_flows"].as_u64() < expected["flow_table"]["max_flows"].as_u64());
        for table in [&mut got, &mut expected] {
            table["flow_table"].as_object_mut().unwrap().remove("max_flows");
        }
        assert_eq!(got, expected);
    }
    assert_eq!(at, lines.len());
}

/// The flow lines and the capture line of one capture in `--format ndjson` output.
fn ndjson_lines(out: &str) -> (Vec<serde_json::Value>, serde_json::Value) {
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let flows: Vec<serde_json::Value> =
        lines.iter().filter(|l| l["type"] == "flow").map(|l| l["flow"].clone()).collect();
    let capture = lines.iter().find(|l| l["type"] == "capture").unwrap().clone();
    (flows, capture)
}

/// Endpoints of a flow, in either orientation (a flow's later piece may begin with a server's
/// packet, so it can name the ends the other way round).
fn ends(flow: &serde_json::Value) -> (String, String, String) {
    let (a, b) = (flow["client"].as_str().unwrap().to_string(), flow["server"].as_str().unwrap().to_string());
    let proto = flow["proto"].as_str().unwrap().to_string();
    if a <= b {
        (proto, a, b)
    } else {
        (proto, b, a)
    }
}

/// `--format ndjson` reports a flow evicted from a full table when it leaves (marked
/// `evicted`) instead of dropping it: with a table of 8 on a capture of 36 flows, the pieces
/// of each conversation add up to tshark's frames and bytes for it, and every conversation the
/// whole report (a table large enough for all) calls Tor still has a piece called Tor.
#[test]
fn ndjson_reports_the_flows_a_full_table_evicts() {
    let file = capture("lab/tor-04-mixed.pcap");
    let (code, json, _) = torsift(&["analyze", "--format", "json", &file]);
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let whole = &json["captures"][0];
    let all = whole["flows"].as_array().unwrap();
    assert_eq!(whole["flow_table"]["flows_evicted"], 0);
    let (code, out, _) = torsift(&["analyze", "--format", "ndjson", "--max-flows", "8", &file]);
    assert_eq!(code, 0);
    let (pieces, summary) = ndjson_lines(&out);
    let evicted = pieces.iter().filter(|f| f["evicted"] == true).count() as u64;
    assert!(evicted > 0, "a table of 8 evicts on a capture of {} flows", all.len());
    assert_eq!(summary["flow_table"]["flows_evicted"].as_u64(), Some(evicted));
    assert_eq!(summary["flow_count"].as_u64(), Some(pieces.len() as u64));
    assert!(pieces.iter().filter(|f| f["evicted"] != true).count() <= 8);
    assert_eq!(
        summary["flow_table"]["packets_in_evicted_flows"].as_u64(),
        Some(pieces.iter().filter(|f| f["evicted"] == true).map(|f| f["packets"].as_u64().unwrap()).sum::<u64>())
    );
    // The oracle: tshark's conversations, frames and on-wire bytes.
    let mut merged: std::collections::BTreeMap<ConvKey, Counts> = std::collections::BTreeMap::new();
    for piece in &pieces {
        let key = conv_key(
            piece["proto"].as_str().unwrap(),
            piece["client"].as_str().unwrap(),
            piece["server"].as_str().unwrap(),
        );
        let counts = merged.entry(key).or_default();
        counts.frames += piece["packets"].as_u64().unwrap();
        counts.bytes += piece["bytes"].as_u64().unwrap();
    }
    assert_eq!(merged, tshark_conversations(std::path::Path::new(&file), true));
    assert_eq!(summary["packets"].as_u64(), capinfos_packets(std::path::Path::new(&file)));
    let tor = |f: &serde_json::Value| f["verdict"].as_str().unwrap().starts_with("tor");
    for flow in all.iter().filter(|f| tor(f)) {
        assert!(
            pieces.iter().any(|p| ends(p) == ends(flow) && tor(p)),
            "{} {} lost its Tor verdict",
            flow["client"],
            flow["server"]
        );
    }
}

/// `torsift analyze --format ndjson … | head`: once its output is closed the CLI reads no
/// further. The capture comes through a named pipe, so whether the file was read to its end is
/// visible to its writer: a reader that stops and closes it makes the writer's next write fail.
#[test]
fn ndjson_stops_reading_once_its_output_is_closed() {
    use std::io::{BufRead, Write};
    let dir = std::env::temp_dir().join(format!("torsift-pipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cap, fifo) = (dir.join("many.pcap"), dir.join("capture.pipe"));
    let (code, _, err) =
        torsift(&["generate", "--packets", "200000", "--flows", "20000", "--payload", "100", &cap.to_string_lossy()]);
    assert_eq!(code, 0, "{err}");
    let data = std::fs::read(&cap).unwrap();
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let writer = {
        let (fifo, data) = (fifo.clone(), data.clone());
        // Ok(bytes written) if the whole capture went in; Err once the reader closed the pipe.
        std::thread::spawn(move || -> Result<usize, std::io::Error> {
            let mut pipe = std::fs::OpenOptions::new().write(true).open(&fifo)?;
            for chunk in data.chunks(1 << 16) {
                pipe.write_all(chunk)?;
            }
            Ok(data.len())
        })
    };
    let mut cli = Command::new(env!("CARGO_BIN_EXE_torsift"))
        .args(["analyze", "--format", "ndjson", "--max-flows", "8", &fifo.to_string_lossy()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(cli.stdout.take().unwrap()).lines();
    let header = lines.next().unwrap().unwrap();
    assert!(header.contains("\"type\":\"header\""), "{header}");
    let first = lines.next().unwrap().unwrap();
    assert!(first.contains("\"evicted\":true"), "the first flow line is an evicted flow: {first}");
    drop(lines); // `| head -2`
    let written = writer.join().unwrap();
    let _ = cli.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let error = written.expect_err("the CLI read the whole capture after its output was closed");
    assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe);
}

/// Files read side by side keep their order even when a later file evicts flows before its
/// turn to write (its lines wait in a temporary file): the output is each file's own run's.
#[test]
fn ndjson_keeps_file_order_while_files_evict_side_by_side() {
    let files = [capture("lab/tor-04-mixed.pcap"), capture("public/tor/ndpi_tor_2013-11-07.pcap")];
    let run = |files: &[&str]| {
        let mut args = vec!["analyze", "--format", "ndjson", "--max-flows", "4"];
        args.extend(files);
        let (code, out, _) = torsift(&args);
        assert_eq!(code, 0);
        out.lines().skip(1).map(String::from).collect::<Vec<String>>()
    };
    let together = run(&[&files[0], &files[1]]);
    let mut apart = run(&[&files[0]]);
    apart.extend(run(&[&files[1]]));
    assert_eq!(together, apart);
    assert!(together.iter().filter(|l| l.contains("\"evicted\":true")).count() > 2);
    let left: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name().to_string_lossy().starts_with("torsift-")
                && e.file_name().to_string_lossy().ends_with(".ndjson")
        })
        .collect();
    assert!(left.is_empty(), "temporary files left behind: {left:?}");
}
