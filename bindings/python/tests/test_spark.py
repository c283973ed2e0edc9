"""The Spark job (examples/torsift_spark.py) in local mode over a few shared captures: its
Parquet flow rows equal the CLI's `--format ndjson` flow records (community IDs included), the
day partition is the flow's first day, and the host table adds up the CLI's Tor flows.

    python bindings/python/tests/test_spark.py     (pip install ./bindings/python pyspark; Java 17)
"""
import collections
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
SHARED = os.path.realpath(os.path.join(ROOT, "..", "shared", "captures"))
CLI = os.environ.get("TORSIFT_CLI", os.path.join(ROOT, "target", "release", "torsift"))
sys.path.insert(0, os.path.join(HERE, "..", "examples"))
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)

import torsift_spark  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402

INPUTS = [os.path.join(SHARED, rel) for rel in (
    "public/tor/linkia_tor_2019-11-02.pcapng",
    "public/tor/ndpi_tor_2013-11-07.pcap",
    "lab/tor-04-mixed.pcap",
    "lab-pt/pt-02-snowflake-client.pcap",
)]


def cli_records(path):
    out = subprocess.run([CLI, "analyze", "--format", "ndjson", path], capture_output=True, check=True).stdout
    rows = []
    for line in out.decode().splitlines():
        row = json.loads(line)
        if row.pop("type") == "flow":
            del row["flow"]
            rows.append(row)
    return rows


def key(row):
    return (row["capture"], row["first_seen"], row["proto"], row["client_ip"], row["client_port"],
            row["server_ip"], row["server_port"])


class SparkJob(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.spark = (SparkSession.builder.master("local[2]").appName("torsift-test")
                     .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
                     .getOrCreate())
        # The executors import the job's functions by module name, as spark-submit ships them.
        cls.spark.sparkContext.addPyFile(torsift_spark.__file__)
        cls.out = tempfile.mkdtemp(prefix="torsift-spark-")
        torsift_spark.run(cls.spark, INPUTS, cls.out)

    @classmethod
    def tearDownClass(cls):
        cls.spark.stop()

    def test_flow_rows_are_the_clis(self):
        want = sorted((r for p in INPUTS for r in cli_records(p)), key=key)
        got = [row.asDict() for row in self.spark.read.parquet(f"{self.out}/flows").collect()]
        for row in got:
            # Spark reads the partition column back as a date.
            self.assertEqual(str(row.pop("day")), row["first_seen"][:10])
        got.sort(key=key)
        self.assertEqual(len(got), len(want))
        self.assertGreater(len(want), 50)  # the four captures hold 58 flows
        for g, w in zip(got, want):
            self.assertEqual(g, w)
        days = {os.path.basename(d) for d in os.listdir(f"{self.out}/flows") if d.startswith("day=")}
        self.assertEqual(days, {"day=" + r["first_seen"][:10] for r in want})

    def test_hosts_add_up_the_tor_flows(self):
        want = collections.defaultdict(lambda: [0, 0])
        for p in INPUTS:
            for r in cli_records(p):
                if r["verdict"] != "none":
                    want[(r["capture"], r["client_ip"])][0] += 1
                    want[(r["capture"], r["client_ip"])][1] += r["bytes"]
        got = {(h.capture, h.client_ip): [h.tor_flows, h.bytes] for h in self.spark.read.parquet(f"{self.out}/hosts").collect()}
        self.assertEqual(got, dict(want))
        self.assertGreater(len(got), 2)


class ArrowRows(unittest.TestCase):
    def test_flow_records_fill_a_pyarrow_table_of_the_declared_schema(self):
        import pyarrow as pa
        import torsift

        types = {"string": pa.string(), "int32": pa.int32(), "int64": pa.int64(), "list_string": pa.list_(pa.string()),
                 "bool": pa.bool_()}
        schema = pa.schema([(name, types[kind]) for name, kind in torsift.FLOW_RECORD_FIELDS])
        for path in INPUTS:
            want = cli_records(path)
            table = pa.Table.from_pylist(list(torsift.flow_records(path)), schema=schema)
            self.assertEqual(table.num_rows, len(want), path)
            self.assertEqual(table.column("community_id").to_pylist(), [r["community_id"] for r in want])
            self.assertEqual(table.to_pylist(), want)


if __name__ == "__main__":
    unittest.main(verbosity=2)
