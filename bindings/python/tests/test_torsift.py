"""The Python package against the CLI: for every capture in ../shared/captures, `import torsift`
gives exactly the capture object `torsift analyze --format json` prints, the streaming Analyzer
gives it too, and `flow_records` gives the CLI's `--format ndjson` flow lines.

    python bindings/python/tests/test_torsift.py      (after `pip install ./bindings/python`)

TORSIFT_CLI names the CLI binary (default: target/release/torsift of this repository)."""
import json
import os
import subprocess
import sys
import unittest

import torsift

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SHARED = os.path.join(ROOT, "..", "shared", "captures")
CLI = os.environ.get("TORSIFT_CLI", os.path.join(ROOT, "target", "release", "torsift"))
SKIP_DIRS = {"directory-docs", "torrc", "keys", "logs", "tshark"}
SKIP_EXT = (".md", ".json", ".txt", ".pem", ".env", ".conf", ".log")


def captures():
    """Every capture file under ../shared/captures (as the Rust tests list them)."""
    out = []
    for dirpath, dirnames, filenames in os.walk(SHARED):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        out += [os.path.join(dirpath, f) for f in filenames if not f.endswith(SKIP_EXT)]
    return sorted(out)


def cli(path, fmt="json", *options):
    """The CLI's output for one file, run from its directory so `file` is the bare name."""
    run = subprocess.run([CLI, "analyze", "--format", fmt, *options, os.path.basename(path)],
                         cwd=os.path.dirname(path), capture_output=True, check=False)
    if run.returncode not in (0, 1):
        raise AssertionError(f"{path}: the CLI failed: {run.stderr.decode()}")
    return run.stdout.decode()


def cli_records(path, *options):
    """The CLI's ndjson flow lines for one file as flat records (without `type` and `flow`)."""
    records = []
    for line in cli(path, "ndjson", *options).splitlines():
        line = json.loads(line)
        if line["type"] == "flow":
            del line["type"], line["flow"]
            records.append(line)
    return records


def records_of(path, **options):
    """`flow_records` for one file, run from its directory like `cli`, as it returned them."""
    cwd = os.getcwd()
    os.chdir(os.path.dirname(path))
    try:
        return torsift.flow_records(os.path.basename(path), **options)
    finally:
        os.chdir(cwd)


class AgainstTheCli(unittest.TestCase):
    def test_every_shared_capture(self):
        files = captures()
        self.assertGreater(len(files), 20, f"captures found under {SHARED}")
        cwd = os.getcwd()
        try:
            for path in files:
                want = json.loads(cli(path))["captures"][0]
                os.chdir(os.path.dirname(path))
                got = torsift.analyze_file(os.path.basename(path))
                os.chdir(cwd)
                self.assertEqual(got, want, path)
        finally:
            os.chdir(cwd)

    def test_streaming_analyzer_and_bytes(self):
        path = os.path.join(SHARED, "lab", "tor-04-mixed.pcap")
        want = json.loads(cli(path))["captures"][0]
        with open(path, "rb") as f:
            data = f.read()
        analyzer = torsift.Analyzer(name=os.path.basename(path))
        for at in range(0, len(data), 65_537):
            analyzer.push(data[at:at + 65_537])
        self.assertEqual(analyzer.finish(), want)
        self.assertEqual(torsift.analyze_bytes(data, name=os.path.basename(path)), want)
        with self.assertRaises(RuntimeError):
            analyzer.finish()

    def test_flow_records_are_the_ndjson_flow_lines(self):
        names = [n for n, _ in torsift.FLOW_RECORD_FIELDS]
        for rel in ["public/tor/linkia_tor_2019-11-02.pcapng", "lab/tor-04-mixed.pcap",
                    "lab-pt/pt-02-snowflake-client.pcap"]:
            path = os.path.join(SHARED, rel)
            want = cli_records(path)
            got = list(records_of(path))
            self.assertEqual(got, want, rel)
            self.assertTrue(got, rel)
            for record in got:
                self.assertEqual(list(record), names)

    def test_flow_records_stream_what_a_full_table_evicts(self):
        # A table of 8 on 36 flows: the evicted flows are rows too, as the CLI writes them, and
        # the rows come from an iterator fed while the file is read, not from a list.
        path = os.path.join(SHARED, "lab", "tor-04-mixed.pcap")
        want = cli_records(path, "--max-flows", "8")
        records = records_of(path, max_flows=8)
        self.assertIs(iter(records), records)
        self.assertNotIsInstance(records, list)
        got = list(records)
        self.assertEqual(got, want)
        self.assertGreaterEqual(len(got), 36)

    def test_a_dropped_iterator_stops_reading(self):
        # Rows taken, the iterator dropped: its reader stops and closes the file. The capture
        # comes through a named pipe, so a writer still feeding it meets a closed pipe instead of
        # the file being read to its end for nobody.
        import gc
        import tempfile
        import threading
        with tempfile.TemporaryDirectory() as tmp:
            cap, fifo = os.path.join(tmp, "many.pcap"), os.path.join(tmp, "capture.pipe")
            subprocess.run([CLI, "generate", "--packets", "200000", "--flows", "20000", "--payload", "100", cap],
                           check=True, capture_output=True)
            with open(cap, "rb") as f:
                data = f.read()
            os.mkfifo(fifo)
            outcome = []

            def feed():
                try:
                    with open(fifo, "wb", buffering=0) as pipe:
                        for at in range(0, len(data), 1 << 16):
                            pipe.write(data[at:at + (1 << 16)])
                    outcome.append("read to the end")
                except BrokenPipeError:
                    outcome.append("closed by the reader")

            writer = threading.Thread(target=feed)
            writer.start()
            rows = torsift.flow_records(fifo, max_flows=8)
            first = next(rows)
            self.assertTrue(first["evicted"])
            del rows
            gc.collect()
            writer.join()
            self.assertEqual(outcome, ["closed by the reader"])

    def test_a_damaged_capture_keeps_what_was_read(self):
        path = os.path.join(SHARED, "lab", "tor-01-bootstrap.pcap")
        with open(path, "rb") as f:
            data = f.read()
        cut = data[: len(data) * 6 // 10]
        report = torsift.analyze_bytes(cut, name="cut.pcap")
        self.assertIsNotNone(report["error"])
        self.assertGreater(len(report["flows"]), 0)
        analyzer = torsift.Analyzer()
        with self.assertRaises(ValueError):
            analyzer.push(b"not a capture at all, just text")


if __name__ == "__main__":
    unittest.main(verbosity=2)
