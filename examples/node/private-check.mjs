// Private check from Node.js: the same answers as Python's scameter.private, sending only
// hash prefixes (docs/privacy.md).
//
//   node private-check.mjs --target 127.0.0.1:50051 [--api-key KEY] [--proto FILE] \
//       KIND:CANONICAL...
//
// Each argument is an identifier already in scameter's canonical form, with its kind:
// phone:+85291234567, url:http://evil.example/login, domain:evil.example, fps_id:1234567...
// (canonicalisation is the server-independent part every app already does; `scameter check
// --json` prints the canonical form). For each one this script:
//   1. computes the full hashes: for url and domain, SHA-256 of each Safe Browsing lookup
//      expression (host suffixes x path prefixes, no tag); for other kinds,
//      SHA-256(tag byte || UTF-8 canonical), with the kind's tag from docs/snapshot-format.md;
//   2. sends only their prefixes (the kind's length: 2, 3 or 4 bytes) to SearchHashes;
//   3. matches the returned full hashes locally, and answers as scameter.private does: the
//      allowlist (VERIFIED) wins, except over a HIGH RISK URL listing; else the worst listing.
// Output: one JSON object per argument ({input, kind, canonical, level, matched,
// report_count, categories}), then {"sent": [hex prefixes]} on the last line.
import { createHash } from "node:crypto";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";

// Kind -> [tag byte, prefix bytes]: docs/snapshot-format.md ("Keys"), docs/privacy.md.
const KINDS = {
  phone: [0x01, 2],
  url: [0x02, 4],
  domain: [0x03, 4],
  email: [0x04, 4],
  fps_id: [0x05, 2],
  bank_account: [0x06, 3],
  platform_account: [0x07, 4],
  crypto_wallet: [0x08, 4],
  ip: [0x09, 2],
  sms_sender: [0x0a, 2],
};
const SEVERITY = { LEVEL_HIGH_RISK: 4, LEVEL_SUSPICIOUS: 3, LEVEL_POSSIBLE: 2, LEVEL_VERIFIED: 1 };

const sha256 = (data) => createHash("sha256").update(data).digest();

// Safe Browsing lookup hosts: the exact host, then up to 4 suffixes of its last 5 components.
function lookupHosts(host) {
  const hosts = [host];
  if (host.startsWith("[") || /^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return hosts;
  const suffixes = [];
  let cut = host.lastIndexOf(".");
  while (cut > 0 && suffixes.length < 4) {
    cut = host.lastIndexOf(".", cut - 1);
    if (cut < 0) break;
    suffixes.push(host.slice(cut + 1));
  }
  return hosts.concat(suffixes.reverse());
}

// Safe Browsing lookup paths: exact path with query, without it, "/", up to 3 more prefixes.
function lookupPaths(pathAndQuery) {
  const q = pathAndQuery.indexOf("?");
  const path = q >= 0 ? pathAndQuery.slice(0, q) : pathAndQuery;
  const paths = q >= 0 && q + 1 < pathAndQuery.length ? [pathAndQuery, path] : [path];
  if (path !== "/") {
    paths.push("/");
    let end = 0;
    for (let i = 0; i < 3; i++) {
      end = path.indexOf("/", end + 1);
      if (end < 0) break;
      const prefix = path.slice(0, end + 1);
      if (prefix === path) break;
      paths.push(prefix);
    }
  }
  return paths;
}

function expressions(kind, canonical) {
  const url = kind === "domain" ? `http://${canonical}/` : canonical;
  const start = url.indexOf("://") + 3;
  const slash = url.indexOf("/", start);
  const host = url.slice(start, slash);
  const paths = lookupPaths(url.slice(slash));
  return lookupHosts(host).flatMap((h) => paths.map((p) => h + p));
}

// [[label, full hash]]: the expressions of a URL / domain, else the identifier itself.
function lookupHashes(kind, canonical) {
  if (kind === "url" || kind === "domain") {
    return expressions(kind, canonical).map((e) => [e, sha256(Buffer.from(e, "utf8"))]);
  }
  const tag = Buffer.from([KINDS[kind][0]]);
  return [[canonical, sha256(Buffer.concat([tag, Buffer.from(canonical, "utf8")]))]];
}

function answer(input, kind, canonical, found) {
  const allow = found.filter(([, f]) => f.level === "LEVEL_VERIFIED");
  const listed = found
    .filter(([, f]) => f.level !== "LEVEL_VERIFIED")
    .sort((a, b) => SEVERITY[b[1].level] - SEVERITY[a[1].level] || b[1].report_count - a[1].report_count);
  const urlKind = kind === "url" || kind === "domain";
  let best = null;
  if (allow.length && !(urlKind && listed.length && listed[0][1].level === "LEVEL_HIGH_RISK")) {
    best = allow[0];
  } else if (listed.length) {
    best = listed[0];
  }
  const level = best ? best[1].level.replace("LEVEL_", "").toLowerCase() : "no_record";
  return {
    input,
    kind,
    canonical,
    level,
    matched: best && urlKind ? best[0] : null,
    report_count: best ? best[1].report_count : 0,
    categories: best ? best[1].categories : [],
  };
}

async function main() {
  const here = dirname(fileURLToPath(import.meta.url));
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      target: { type: "string", default: "127.0.0.1:50051" },
      "api-key": { type: "string" },
      proto: { type: "string", default: resolve(here, "../../scameter/rpc/v1/scameter.proto") },
    },
  });
  const items = positionals.map((arg) => {
    const colon = arg.indexOf(":");
    const kind = arg.slice(0, colon);
    if (colon < 0 || !(kind in KINDS)) throw new Error(`give KIND:CANONICAL, not ${arg}`);
    const canonical = arg.slice(colon + 1);
    return { arg, kind, canonical, hashes: lookupHashes(kind, canonical) };
  });
  const def = protoLoader.loadSync(values.proto, { keepCase: true, enums: String, longs: Number });
  const { Scameter } = grpc.loadPackageDefinition(def).scameter.v1;
  const client = new Scameter(values.target, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  if (values["api-key"]) metadata.set("authorization", `Bearer ${values["api-key"]}`);

  const prefixes = new Map(); // hex -> Buffer, distinct, in first-seen order
  for (const it of items) {
    for (const [, h] of it.hashes) {
      const p = h.subarray(0, KINDS[it.kind][1]);
      prefixes.set(p.toString("hex"), p);
    }
  }
  const found = new Map(); // full hash hex -> [FullHash]
  const sent = [...prefixes.keys()];
  for (let i = 0; i < sent.length; i += 64) {
    const batch = sent.slice(i, i + 64).map((hex) => prefixes.get(hex));
    const resp = await new Promise((ok, fail) =>
      client.SearchHashes({ hash_prefixes: batch }, metadata, (err, r) => (err ? fail(err) : ok(r))),
    );
    for (const fh of resp.full_hashes) {
      const key = Buffer.from(fh.full_hash).toString("hex");
      found.set(key, [...(found.get(key) ?? []), fh]);
    }
  }
  for (const it of items) {
    const matches = it.hashes.flatMap(([label, h]) =>
      (found.get(h.toString("hex")) ?? []).map((f) => [label, f]),
    );
    console.log(JSON.stringify(answer(it.arg, it.kind, it.canonical, matches)));
  }
  console.log(JSON.stringify({ sent }));
  client.close();
}

main().catch((err) => {
  console.error(`private-check: ${err.message}`);
  process.exit(2);
});
