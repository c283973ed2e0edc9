//! Property: the report is identical whatever chunk sizes the input arrives in.

mod support;

use proptest::prelude::*;
use support::*;
use torsift::analysis::{Analyzer, Limits};
use torsift::synth::{generate, SynthFormat, SynthSpec};

fn report_json(name: &str, data: &[u8], cuts: &[usize]) -> String {
    let mut a = Analyzer::new(name, Limits::default());
    let mut at = 0;
    for &cut in cuts {
        let end = (at + cut).min(data.len());
        let _ = a.push(&data[at..end]);
        at = end;
    }
    let _ = a.push(&data[at..]);
    serde_json::to_string(&a.finish()).unwrap()
}

/// Small real captures covering pcap, pcapng (several interfaces, comments, big-endian), gzip,
/// tunnels and fragments, plus one cut short.
const CAPTURES: &[&str] = &[
    "public/formats/zeek_tunnels_vxlan.pcap",
    "public/formats/zeek_ipv6-fragmented-dns.pcap",
    "public/formats/ndpi_rtp_pkt-comments_2-ifaces.pcapng",
    "public/formats/pcapparser_test016-be.pcapng",
    "public/formats/zeek_tls-fragmented-handshake.pcap.gz",
    "public/formats/zeek_pppoe-over-qinq.pcap",
    "public/edge/ndpi_fuzz-2021-10-13_truncated-nsec-null.pcap",
    "public/edge/pcapparser_modified-format_kuznetzov.pcap",
];

fn files() -> Vec<(String, Vec<u8>)> {
    let root = shared_dir().join("captures");
    let mut out: Vec<(String, Vec<u8>)> =
        CAPTURES.iter().map(|c| (c.to_string(), std::fs::read(root.join(c)).unwrap())).collect();
    for format in [SynthFormat::Pcap, SynthFormat::Pcapng] {
        let mut buf = Vec::new();
        generate(&SynthSpec { format, packets: 300, flows: 40, payload: 700, seed: 7 }, &mut buf).unwrap();
        out.push((format!("synth-{format:?}"), buf));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn report_does_not_depend_on_chunking(cuts in proptest::collection::vec(1usize..3000, 0..60)) {
        for (name, data) in files() {
            let whole = report_json(&name, &data, &[]);
            let chunked = report_json(&name, &data, &cuts);
            prop_assert_eq!(&whole, &chunked, "{} differs when pushed in chunks {:?}", name, cuts);
        }
    }
}

#[test]
fn byte_at_a_time_equals_whole() {
    for (name, data) in files() {
        let ones = vec![1usize; data.len()];
        assert_eq!(report_json(&name, &data, &[]), report_json(&name, &data, &ones), "{name}");
    }
}
