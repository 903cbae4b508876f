"""Produce firewall log records to a Sluice tenant topic with clients nobody
at Sluice wrote, for the Go interop test to read back.

Two producers write to the same topic:
  * confluent-kafka's AvroSerializer, registering the schema through Sluice's
    Confluent-compatible API (/confluent) and framing each value with the
    Confluent magic byte and schema id;
  * fastavro's schemaless writer, with the schema version in Sluice's own
    header (sluice-schema-version), the version looked up through /confluent.

Every record written is also written, as JSON, to --out, in order, with the
partition and offset it landed at, so the test compares field by field.
"""

import argparse
import io
import json
import random
import sys

import fastavro
from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext


def records(n, tenant, rng):
    """n firewall log records with every kind of value the schema has."""
    out = []
    for i in range(n):
        threat = rng.random() < 0.2
        out.append({
            "event_time": 1764158400000 + i * 1000 + rng.randrange(1000),
            "tenant": tenant,
            "session_id": 10_000_000 + i,
            "src_ip": "10.0.%d.%d" % (rng.randrange(256), rng.randrange(256)),
            "src_port": rng.randrange(32768, 61000),
            "dst_ip": "203.0.113.%d" % rng.randrange(256),
            "dst_port": rng.choice([443, 80, 53, 22, 3389]),
            "protocol": rng.choice(["TCP", "UDP", "ICMP"]),
            "application": rng.choice(["ssl", "web-browsing", "dns", "ssh", "ms-rdp", "héllo-ünïcode"]),
            "action": rng.choice(["allow", "allow", "allow", "deny", "drop"]),
            "rule": "rule-%d" % rng.randrange(40),
            "src_zone": "trust",
            "dst_zone": "untrust",
            "bytes_sent": rng.randrange(0, 1 << 40),
            "bytes_received": rng.randrange(0, 1 << 20),
            "packets": rng.randrange(1, 5000),
            "duration_ms": rng.randrange(0, 600000),
            "user": None if rng.random() < 0.4 else "user%d@example.com" % rng.randrange(100),
            "country": rng.choice(["US", "DE", "JP", "BR"]),
            "severity": rng.randrange(1, 6),
            "log_type": "THREAT" if threat else "TRAFFIC",
            "threat_name": "Trojan.Gen.%d" % rng.randrange(100) if threat else None,
            "threat_category": "malware" if threat else None,
        })
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--registry", required=True, help="base URL of Sluice's /confluent API")
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--tenant", required=True)
    ap.add_argument("--schema", required=True, help="path of the .avsc file")
    ap.add_argument("--count", type=int, default=100, help="records per producer")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    with open(args.schema) as f:
        schema_str = f.read()
    rng = random.Random(42)
    sr = SchemaRegistryClient({"url": args.registry})
    serializer = AvroSerializer(sr, schema_str, conf={"auto.register.schemas": True})
    producer = Producer({"bootstrap.servers": args.bootstrap, "linger.ms": 5, "acks": "all"})

    written = []

    def delivered(rec):
        def cb(err, msg):
            if err is not None:
                sys.exit("delivery failed: %s" % err)
            written.append({"partition": msg.partition(), "offset": msg.offset(), "record": rec})
        return cb

    ctx = SerializationContext(args.topic, MessageField.VALUE)
    for rec in records(args.count, args.tenant, rng):
        producer.produce(args.topic, key=str(rec["session_id"]).encode(), value=serializer(rec, ctx),
                         on_delivery=delivered(rec))
    producer.flush(30)

    # fastavro, with Sluice's header naming the version the registry gave.
    subject = args.topic + "-value"
    version = sr.get_latest_version(subject).version
    parsed = fastavro.parse_schema(json.loads(schema_str))
    for rec in records(args.count, args.tenant, random.Random(7)):
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, parsed, rec)
        producer.produce(args.topic, key=str(rec["session_id"]).encode(), value=buf.getvalue(),
                         headers=[("sluice-schema-version", str(version).encode())],
                         on_delivery=delivered(rec))
    left = producer.flush(30)
    if left:
        sys.exit("%d records not delivered" % left)
    if len(written) != 2 * args.count:
        sys.exit("delivered %d records, want %d" % (len(written), 2 * args.count))

    with open(args.out, "w") as f:
        json.dump({"version": version, "records": written}, f)


if __name__ == "__main__":
    main()
