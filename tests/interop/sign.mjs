// Signs and verifies webhook requests with the real client libraries, for tst_authinterop.
// stdin: {"mode":"sign"|"verify", "secret", "body", "id", "timestamp", "headers"}; stdout: JSON.
import { Webhook } from "standardwebhooks";
import { sign, verify } from "@octokit/webhooks-methods";

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const req = JSON.parse(Buffer.concat(chunks).toString("utf8"));

if (req.mode === "sign") {
  const std = new Webhook(req.secret);
  const date = new Date(req.timestamp * 1000);
  const out = {
    standard: {
      "webhook-id": req.id,
      "webhook-timestamp": String(req.timestamp),
      "webhook-signature": std.sign(req.id, date, req.body),
    },
    github: { "X-Hub-Signature-256": await sign(req.secret, req.body) },
  };
  process.stdout.write(JSON.stringify(out));
} else {
  const result = { standard: false, github: false };
  try {
    new Webhook(req.secret).verify(req.body, req.headers);
    result.standard = true;
  } catch (e) {
    result.standardError = String(e.message || e);
  }
  result.github = await verify(req.secret, req.body, req.headers["X-Hub-Signature-256"] || "");
  process.stdout.write(JSON.stringify(result));
}
