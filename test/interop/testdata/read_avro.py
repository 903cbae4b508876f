"""Read what Sluice's Avro encoder wrote, with fastavro, and print it as JSON.

Usage: read_avro.py SCHEMA OCF SOE...

Prints {"ocf": [records], "soe": [records], "codec": ...}
with bytes as hex, datetimes/dates/times as ISO strings, Decimal as str.
"""
import datetime
import decimal
import io
import json
import sys
import uuid

import fastavro
from fastavro.schema import fingerprint, parse_schema, to_parsing_canonical_form


def plain(v):
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, bytes):
        return {"hex": v.hex()}
    if isinstance(v, datetime.datetime):
        return {"datetime": v.isoformat()}
    if isinstance(v, datetime.date):
        return {"date": v.isoformat()}
    if isinstance(v, datetime.time):
        return {"time": v.isoformat()}
    if isinstance(v, decimal.Decimal):
        return {"decimal": str(v)}
    if isinstance(v, uuid.UUID):
        return {"uuid": str(v)}
    if isinstance(v, float) and v != v:
        return {"float": "NaN"}
    if isinstance(v, float) and v in (float("inf"), float("-inf")):
        return {"float": str(v)}
    return v


def main():
    if sys.argv[1] == "--source":
        # Decode datums of the source schema: the reference for nested values.
        with open(sys.argv[2]) as f:
            schema = parse_schema(json.load(f))
        recs = []
        for p in sys.argv[3:]:
            with open(p, "rb") as f:
                recs.append(plain(fastavro.schemaless_reader(f, schema)))
        json.dump(recs, sys.stdout)
        return
    schema_path, ocf_path, *soe_paths = sys.argv[1:]
    with open(schema_path) as f:
        schema = parse_schema(json.load(f))
    # fastavro gives the CRC-64-AVRO fingerprint as the hex of its
    # little-endian bytes: what a single-object header holds.
    fp = fingerprint(to_parsing_canonical_form(schema), "CRC-64-AVRO")
    out = {"ocf": [], "soe": []}
    with open(ocf_path, "rb") as f:
        r = fastavro.reader(f)
        out["codec"] = r.codec
        for rec in r:
            out["ocf"].append(plain(rec))
    for p in soe_paths:
        with open(p, "rb") as f:
            data = f.read()
        if data[:2] != b"\xc3\x01":
            sys.exit(f"{p}: bad magic {data[:2]!r}")
        if data[2:10].hex() != fp:
            sys.exit(f"{p}: fingerprint {data[2:10].hex()}, schema's {fp}")
        buf = io.BytesIO(data[10:])
        rec = fastavro.schemaless_reader(buf, schema)
        if buf.read():
            sys.exit(f"{p}: bytes left after the datum")
        out["soe"].append(plain(rec))
    json.dump(out, sys.stdout)


main()
