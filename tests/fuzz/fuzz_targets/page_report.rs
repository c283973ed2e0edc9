//! The page's reader of a finished report (the worker's JSON, or one kept in the browser's
//! history): any text is a report or an error, never a panic, and a report's flows read back
//! from the places the reader found them, as the capture's entry is written whole again.
#![no_main]
use libfuzzer_sys::fuzz_target;
use torsift::browser::report::Report;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    if let Ok(report) = Report::parse(text) {
        let written = serde_json::to_value(report.capture_with_flows()).unwrap();
        let flows = written["flows"].as_array().map_or(0, Vec::len);
        assert_eq!(flows, report.flows.len());
        for row in &report.flows {
            let _ = report.flow(row);
        }
    }
});
