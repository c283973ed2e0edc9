"""torsift over a capture archive with Spark: one task per capture file, flow records written as
Parquet partitioned by capture day, plus a per-host table of the hosts that used Tor.

    spark-submit --py-files torsift-*.whl \\
        bindings/python/examples/torsift_spark.py INPUT_DIR_OR_GLOB... --out OUTPUT_DIR

(or `pip install ./bindings/python` on every executor). Each executor streams its files from
their paths through `torsift.flow_records` (the file is never loaded whole, the GIL is released
while it is parsed), so the input must be readable as a path on the executors: a local disk, NFS,
or an object store mounted there (s3fs, gcsfuse, blobfuse, Databricks /dbfs). The file listing
uses Spark's `binaryFile` source with only its `path` column, so Spark never reads the bytes
itself.

Output:
  OUTPUT_DIR/flows/day=YYYY-MM-DD/*.parquet   one row per flow: torsift.FLOW_RECORD_FIELDS
                                              (community_id joins Zeek conn.log / Suricata EVE)
  OUTPUT_DIR/hosts/*.parquet                  per capture and client host with Tor flows:
                                              flows, bytes, first/last seen, verdicts, transports
"""
import argparse
from urllib.parse import unquote, urlparse

from pyspark.sql import SparkSession, functions as F
from pyspark.sql import types as T

ARROW_TO_SPARK = {
    "string": T.StringType(),
    "int32": T.IntegerType(),
    "int64": T.LongType(),
    "list_string": T.ArrayType(T.StringType()),
    "bool": T.BooleanType(),
}


def flow_schema(fields):
    """The Spark schema of torsift's flat flow record (from torsift.FLOW_RECORD_FIELDS)."""
    return T.StructType([T.StructField(name, ARROW_TO_SPARK[kind], True) for name, kind in fields])


def local_path(uri):
    """`file:/data/x.pcap` (as Spark lists files) → `/data/x.pcap`."""
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme in ("file", "") else uri


def analyze_paths(rows):
    """mapPartitions: the flow records of each capture path in this partition."""
    import torsift  # imported on the executor

    names = [name for name, _ in torsift.FLOW_RECORD_FIELDS]
    for row in rows:
        for record in torsift.flow_records(local_path(row.path)):
            yield tuple(record[name] for name in names)


def run(spark, inputs, out, files_per_task=1):
    """Analyses every capture under `inputs` and writes `out/flows` and `out/hosts`; returns the
    flows DataFrame."""
    import torsift

    listing = (
        spark.read.format("binaryFile")
        .option("recursiveFileLookup", "true")
        .load(inputs)
        .select("path")  # the content column is never read
    )
    paths = listing.collect()
    slices = max(1, len(paths) // max(1, files_per_task))
    records = spark.sparkContext.parallelize(paths, slices).mapPartitions(analyze_paths)
    flows = spark.createDataFrame(records, flow_schema(torsift.FLOW_RECORD_FIELDS), verifySchema=False)
    # Kept for the host table below: without it every capture would be analysed twice.
    flows = flows.withColumn("day", F.substring("first_seen", 1, 10)).persist()
    flows.write.mode("overwrite").partitionBy("day").parquet(f"{out}/flows")
    tor = flows.filter(F.col("verdict") != "none")
    hosts = tor.groupBy("capture", "client_ip").agg(
        F.count("*").alias("tor_flows"),
        F.sum("bytes").alias("bytes"),
        F.min("first_seen").alias("first_seen"),
        F.max("last_seen").alias("last_seen"),
        F.sort_array(F.collect_set("verdict")).alias("verdicts"),
        F.sort_array(F.collect_set("transport")).alias("transports"),
        F.sort_array(F.collect_set("server_ip")).alias("servers"),
    )
    hosts.write.mode("overwrite").parquet(f"{out}/hosts")
    return flows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("inputs", nargs="+", help="capture directories, files or globs")
    parser.add_argument("--out", required=True, help="output directory (Parquet)")
    parser.add_argument("--files-per-task", type=int, default=1)
    args = parser.parse_args()
    spark = SparkSession.builder.appName("torsift").getOrCreate()
    run(spark, args.inputs, args.out, args.files_per_task)
    spark.stop()


if __name__ == "__main__":
    main()
