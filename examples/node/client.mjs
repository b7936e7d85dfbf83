// A Node.js client of the scameter gRPC API: Check, CheckBatch, CheckPayee, Report, Appeal
// and the standard health Check, each printing the server's answer as one JSON line.
//
//   node client.mjs [--target HOST:PORT] [--api-key KEY] [--proto-dir DIR] COMMAND ...
//
//   health [SERVICE]                        grpc.health.v1.Health/Check ("" = the server)
//   check VALUE [--kind K] [--language L]   Scameter/Check
//   batch VALUE... [--kind K]               Scameter/CheckBatch
//   payee [--proxy ID] [--account ACCOUNT]  Scameter/CheckPayee
//   report (--token JWT | --secret-file F) --category C [--text T] VALUE...   Scameter/Report
//   appeal (--token JWT | --secret-file F) --reason R VALUE                  Scameter/Appeal
//
// --token takes a reporter token your backend issued (a standard HS256 JWT, see
// docs/operations.md); --secret-file FILE instead signs one here with Node's own crypto, as a
// backend written in Node would (sub = --reporter, valid 10 minutes).
//
// The protos are the files published under the repository's proto/ directory
// (proto/scameter/v1/scameter.proto and proto/grpc/health/v1/health.proto); --proto-dir points
// elsewhere when the script is copied out of the repository. How proto3 values arrive in
// JavaScript with these loader options (README.md): enums as their names ("LEVEL_HIGH_RISK"),
// 64-bit integers (uint64, Duration.seconds) as decimal strings, unset fields as defaults.
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";

const HERE = dirname(fileURLToPath(import.meta.url));

// keepCase: field names as in the .proto (report_count, not reportCount); enums: String and
// longs: String: names and decimal strings (a JS number cannot hold every uint64); defaults:
// unset scalars appear with their zero value, as in the proto3 JSON mapping's reading side.
const LOADER = { keepCase: true, enums: String, longs: String, defaults: true, oneofs: true };

function load(protoDir) {
  const files = ["scameter/v1/scameter.proto", "grpc/health/v1/health.proto"];
  const def = protoLoader.loadSync(files, { ...LOADER, includeDirs: [protoDir] });
  return grpc.loadPackageDefinition(def);
}

const b64url = (data) => Buffer.from(data).toString("base64url");

// An HS256 JWT (RFC 7519) signed with Node's built-in crypto: what a Node backend that
// verified the reporter by SMS would issue. The secret file is read as the server reads it:
// surrounding whitespace (the newline `base64` writes) is not part of the secret.
function signToken(secretFile, reporter, ttl = 600) {
  const secret = readFileSync(secretFile, "utf8").trim();
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const claims = b64url(JSON.stringify({ sub: reporter, iat: now, exp: now + ttl, scope: "report" }));
  const signature = createHmac("sha256", secret).update(`${header}.${claims}`).digest();
  return `${header}.${claims}.${b64url(signature)}`;
}

const OPTIONS = {
  target: { type: "string", default: "127.0.0.1:50051" },
  "api-key": { type: "string" },
  "proto-dir": { type: "string", default: resolve(HERE, "../../proto") },
  kind: { type: "string", default: "" },
  language: { type: "string", default: "" },
  region: { type: "string", default: "" },
  proxy: { type: "string", default: "" },
  account: { type: "string", default: "" },
  token: { type: "string" },
  "secret-file": { type: "string" },
  reporter: { type: "string", default: "node-example-reporter" },
  category: { type: "string", default: "" },
  text: { type: "string", default: "" },
  reason: { type: "string", default: "" },
  timeout: { type: "string", default: "10" },
};

function reporterToken(values) {
  if (values.token) return values.token;
  if (values["secret-file"]) return signToken(values["secret-file"], values.reporter);
  throw new Error("report and appeal need --token JWT or --secret-file FILE");
}

// COMMAND -> [client, method, request built from the parsed arguments].
const COMMANDS = {
  health: (v, args) => ["health", "Check", { service: args[0] ?? "" }],
  check: (v, args) => [
    "scameter",
    "Check",
    { identifier: one(args), kind: v.kind, language: v.language, region: v.region },
  ],
  batch: (v, args) => [
    "scameter",
    "CheckBatch",
    { identifiers: args, kind: v.kind, language: v.language, region: v.region },
  ],
  payee: (v) => ["scameter", "CheckPayee", { proxy_id: v.proxy, account: v.account, language: v.language }],
  report: (v, args) => [
    "scameter",
    "Report",
    {
      identifiers: args.map((value) => ({ value, kind: v.kind, region: v.region })),
      category: v.category,
      text: v.text,
      reporter_token: reporterToken(v),
    },
  ],
  appeal: (v, args) => [
    "scameter",
    "Appeal",
    {
      identifier: { value: one(args), kind: v.kind, region: v.region },
      reason: v.reason,
      reporter_token: reporterToken(v),
    },
  ],
};

function one(args) {
  if (args.length !== 1) throw new Error(`give exactly one identifier, not ${args.length}`);
  return args[0];
}

async function main() {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: OPTIONS });
  const [command, ...args] = positionals;
  if (!(command in COMMANDS)) {
    throw new Error(`give a command: ${Object.keys(COMMANDS).join(", ")}`);
  }
  const [service, method, request] = COMMANDS[command](values, args);
  const pkg = load(values["proto-dir"]);
  const creds = grpc.credentials.createInsecure();
  const clients = {
    scameter: () => new pkg.scameter.v1.Scameter(values.target, creds),
    health: () => new pkg.grpc.health.v1.Health(values.target, creds),
  };
  const client = clients[service]();
  const metadata = new grpc.Metadata();
  if (values["api-key"]) metadata.set("authorization", `Bearer ${values["api-key"]}`);
  const deadline = new Date(Date.now() + Number(values.timeout) * 1000);
  try {
    const answer = await new Promise((ok, fail) =>
      client[method](request, metadata, { deadline }, (err, r) => (err ? fail(err) : ok(r))),
    );
    console.log(JSON.stringify(answer));
  } finally {
    client.close();
  }
}

main().catch((err) => {
  // A gRPC failure carries its status name; scripts branch on it (docs/operations.md).
  const code = err.code === undefined ? "" : `${grpc.status[err.code]}: `;
  console.error(`client: ${code}${err.details ?? err.message}`);
  process.exit(err.code === undefined ? 2 : 1);
});
