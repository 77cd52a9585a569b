// An independent ActivityPub peer for siarkan's interop tests: one Fedify user
// ("alice") on http://127.0.0.1:PORT, with a small /_control/ JSON API that the
// Python helper (peer.py) drives.  Needs Node >= 22 (scripts/setup-node-peer).
//
//   node peer.mjs [PORT]      (PORT 0 or absent: any free port)
//   env: PEER_PORT, PEER_USER (alice), PEER_FIRST_KNOCK (rfc9421 |
//        draft-cavage-http-signatures-12), PEER_LOG_LEVEL (warning),
//        PEER_INBOX_SPEC (unset: both specs; else the only one its inboxes accept)
//
// Prints "PEER READY http://127.0.0.1:PORT" on stdout once listening.
import http from "node:http";
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { inspect } from "node:util";
import { configure } from "@logtape/logtape";
import { Temporal } from "@js-temporal/polyfill";
import {
  createFederation, generateCryptoKeyPair, MemoryKvStore, signRequest, verifyRequest,
} from "@fedify/fedify";
import {
  Accept, Activity, Announce, Create, Endpoints, Follow, getTypeId, isActor, Like, Link, Note,
  Person, PUBLIC_COLLECTION, Tombstone, Undo,
} from "@fedify/vocab";

const PORT = Number(process.argv[2] ?? process.env.PEER_PORT ?? 0);
const USER = process.env.PEER_USER || "alice";
const FIRST_KNOCK = process.env.PEER_FIRST_KNOCK || "rfc9421";
const INBOX_SPEC = process.env.PEER_INBOX_SPEC || null;

await configure({
  contextLocalStorage: new AsyncLocalStorage(),
  sinks: {
    stderr: (r) => process.stderr.write(`[${r.level}] ${r.category.join(".")}: ${
      r.message.map((m) => (typeof m === "string" ? m : inspect(m, { depth: 4 }))).join("")}\n`),
  },
  loggers: [
    { category: "fedify", sinks: ["stderr"], lowestLevel: process.env.PEER_LOG_LEVEL || "warning" },
    { category: ["logtape", "meta"], sinks: ["stderr"], lowestLevel: "warning" },
  ],
});

// Fedify resolves "@user@host" handles over https:// only (WebFinger, RFC 7033).  Loopback
// test servers speak plain http, so https:// requests to loopback hosts go out as http://.
const LOOPBACK = /^(127(\.\d{1,3}){3}|localhost|\[::1\])$/;
// Every URL Fedify fetches is logged too (e.g. to see it refetch a rotated key).
const fetches = [];
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const method = (input instanceof Request ? input.method : init?.method) ?? "GET";
  fetches.push({ method, url: url.href });
  if (url.protocol !== "https:" || !LOOPBACK.test(url.hostname)) return realFetch(input, init);
  url.protocol = "http:";
  return realFetch(input instanceof Request ? new Request(url, input) : url, init);
};

const RSA = { // for HTTP Signatures; 2048 bits like Mastodon (Fedify's generator makes 4096)
  name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256",
};
const keys = [
  await crypto.subtle.generateKey(RSA, true, ["sign", "verify"]),
  await generateCryptoKeyPair("Ed25519"), // FEP-8b32 Object Integrity Proofs
];
const inbox = []; // activities whose signature Fedify verified, in arrival order
const requests = []; // every POST to an inbox, verified or not, with the answered status
const sent = []; // outcome of every activity this peer sent
const followers = new Map(); // actor id -> actor object (Recipient)
const following = new Map(); // actor id -> { follow, accepted }
const outbox = []; // alice's Create(Note)s, newest first
const notes = new Map(); // note uuid -> Note
const reactions = new Map(); // id -> Like/Announce alice sent (for Undo)
let seq = 0;

const server = http.createServer((req, res) => handle(req, res).catch((e) => {
  console.error(e);
  if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" });
  res.end(String(e));
}));
await new Promise((resolve) => server.listen(PORT, "127.0.0.1", resolve));
const ORIGIN = `http://127.0.0.1:${server.address().port}`;

const federation = createFederation({
  kv: new MemoryKvStore(),
  origin: ORIGIN,
  allowPrivateAddress: true, // also makes Fedify's document loader accept loopback URLs
  firstKnock: FIRST_KNOCK,
  // no queue: sendActivity() delivers before it returns and inbox listeners run inline
});

federation.setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
  if (identifier !== USER) return null;
  const pairs = await ctx.getActorKeyPairs(identifier);
  return new Person({
    id: ctx.getActorUri(identifier),
    preferredUsername: identifier,
    name: `${identifier} (Fedify test peer)`,
    url: ctx.getActorUri(identifier),
    inbox: ctx.getInboxUri(identifier),
    outbox: ctx.getOutboxUri(identifier),
    followers: ctx.getFollowersUri(identifier),
    endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
    publicKey: pairs[0].cryptographicKey,
    assertionMethods: pairs.map((p) => p.multikey),
  });
}).mapHandle((ctx, username) => (username === USER ? USER : null))
  .setKeyPairsDispatcher((ctx, identifier) => (identifier === USER ? keys : []));

federation.setFollowersDispatcher("/users/{identifier}/followers", () => ({
  items: [...followers.values()],
}));
federation.setOutboxDispatcher("/users/{identifier}/outbox", () => ({ items: outbox }));
federation.setObjectDispatcher(Note, "/notes/{id}", (ctx, { id }) => notes.get(id) ?? null);

federation.setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Activity, async (ctx, activity) => {
    // Fedify calls listeners only for activities it authenticated (HTTP Signature, or a
    // verified Object Integrity Proof / LD Signature in the body).
    inbox.push({
      seq: ++seq, receivedAt: new Date().toISOString(), verified: true, recipient: ctx.recipient,
      ...(await summarize(activity, ctx, 0, ctx.data.raw)), http: ctx.data.http,
      hasProof: "proof" in (ctx.data.raw ?? {}), hasLdSignature: "signature" in (ctx.data.raw ?? {}),
      raw: ctx.data.raw,
    });
    const actorId = activity.actorId?.href;
    if (activity instanceof Follow && activity.objectId?.href === ctx.getActorUri(USER).href) {
      const follower = await activity.getActor(ctx);
      if (!isActor(follower)) return;
      followers.set(actorId, follower);
      const accept = new Accept({
        id: newId("accepts"), actor: ctx.getActorUri(USER), object: activity, to: follower.id,
      });
      deliver(ctx, follower, accept); // in the background, like real servers
    } else if (activity instanceof Undo) {
      const undone = await activity.getObject(offline(ctx)).catch(() => null);
      if (undone instanceof Follow) followers.delete(actorId);
    } else if (activity instanceof Accept && following.has(actorId)) {
      following.get(actorId).accepted = true;
    }
  })
  .onUnverifiedActivity((ctx, activity, reason) => {
    ctx.data.unverified = { reason: reason.type, keyId: reason.keyId?.href ?? null };
  }); // returning nothing keeps Fedify's 401

function newId(kind) {
  return new URL(`${ORIGIN}/${kind}/${randomUUID()}`);
}

async function deliver(ctx, recipients, activity) {
  const entry = { type: typeName(activity), id: activity.id.href, ok: false, error: null };
  sent.push(entry);
  try {
    await ctx.sendActivity({ identifier: USER }, recipients, activity);
    entry.ok = true;
  } catch (e) {
    entry.error = String(e?.message ?? e);
  }
  return entry;
}

function typeName(obj) {
  return getTypeId(obj).href.replace(/^.*[#/]/, "");
}

function offline(ctx) {
  const documentLoader = (url) => Promise.reject(new Error(`not embedded: ${url}`));
  return { contextLoader: ctx.contextLoader, documentLoader };
}

function text(v) {
  return v == null ? null : String(v);
}

// Summarises a vocabulary object the way Fedify parsed it.
async function summarize(obj, ctx, depth = 0, raw = null) {
  if (depth > 2) return { id: obj?.id?.href ?? null };
  if (obj == null) return null;
  if (obj instanceof URL) return { id: obj.href };
  if (obj instanceof Link) return { type: typeName(obj), href: text(obj.href) };
  const s = { type: typeName(obj), id: obj.id?.href ?? null };
  if (obj instanceof Activity) {
    s.actor = obj.actorId?.href ?? null;
    s.to = obj.toIds.map(text);
    s.cc = obj.ccIds.map(text);
    let inner = null; // only what the activity embeds: no fetches while summarising
    try { inner = await obj.getObject(offline(ctx)); } catch { /* not embedded, or not trusted */ }
    const embed = raw?.object != null && typeof raw.object === "object" ? raw.object : null;
    s.object = inner ? await summarize(inner, ctx, depth + 1, embed)
      : embed ? { id: embed.id ?? null, type: embed.type ?? null, untrustedEmbed: true } // Fedify ignores
        : { id: obj.objectId?.href ?? null }; // cross-origin embeds (it would refetch them by id)
    return s;
  }
  Object.assign(s, {
    content: text(obj.content), name: text(obj.name), summary: text(obj.summary),
    summaries: obj.summaries.map(localized), contents: obj.contents.map(localized),
    url: obj.url instanceof Link ? text(obj.url.href) : text(obj.url),
    inReplyTo: obj.replyTargetId?.href ?? null, attributedTo: obj.attributionId?.href ?? null,
    published: text(obj.published), updated: text(obj.updated),
    to: obj.toIds.map(text), cc: obj.ccIds.map(text),
  });
  if (obj instanceof Tombstone) {
    Object.assign(s, { formerType: obj.formerType?.name ?? null, deleted: text(obj.deleted) });
  }
  if (isActor(obj)) { // the key as Fedify parsed it from the (embedded) actor, SPKI base64
    const key = await obj.getPublicKey(offline(ctx)).catch(() => null);
    s.publicKey = key?.publicKey && {
      id: key.id?.href ?? null,
      spki: Buffer.from(await crypto.subtle.exportKey("spki", key.publicKey)).toString("base64"),
    };
  }
  return s;
}

// A plain string, or a LanguageString ({summary,content}Map entries) with its language.
function localized(v) {
  return { language: v.locale?.baseName ?? null, value: String(v) };
}

async function lookup(ctx, { handle, limit = 20 }) {
  let webfinger = null;
  if (!/^https?:/.test(handle)) {
    webfinger = await ctx.lookupWebFinger(`acct:${handle.replace(/^(@|acct:)/, "")}`);
  }
  const actor = await ctx.lookupObject(handle);
  if (actor == null) return [404, { error: `lookupObject(${handle}) found nothing`, webfinger }];
  if (actor.id == null) return [422, { error: "Fedify parsed no id (is @context missing?)", webfinger }];
  const key = await actor.getPublicKey?.(ctx);
  const result = {
    webfinger, isActor: isActor(actor), ...(await summarize(actor, ctx)),
    preferredUsername: text(actor.preferredUsername),
    inbox: actor.inboxId?.href ?? null, outbox: actor.outboxId?.href ?? null,
    followers: actor.followersId?.href ?? null, following: actor.followingId?.href ?? null,
    sharedInbox: actor.endpoints?.sharedInbox?.href ?? null,
    manuallyApprovesFollowers: actor.manuallyApprovesFollowers ?? null,
    publicKey: key && {
      id: key.id?.href ?? null, owner: key.ownerId?.href ?? null,
      algorithm: key.publicKey?.algorithm?.name ?? null,
    },
    assertionMethods: (actor.assertionMethodIds ?? []).map(text),
    raw: (await ctx.documentLoader(actor.id.href)).document,
    outboxPage: null,
  };
  if (actor.outboxId) {
    const coll = await actor.getOutbox(ctx);
    const page = coll.firstId ? await coll.getFirst(ctx) : coll;
    const items = [];
    for await (const item of page.getItems(ctx)) {
      items.push(await summarize(item, ctx, 1));
      if (items.length >= limit) break;
    }
    result.outboxPage = {
      id: coll.id?.href ?? null, type: typeName(coll), totalItems: coll.totalItems,
      first: coll.firstId?.href ?? null, pageId: page.id?.href ?? null, items,
    };
  }
  return [200, result];
}

async function findActor(ctx, target) {
  const actor = await ctx.lookupObject(target);
  if (!isActor(actor)) throw Object.assign(new Error(`${target} is not an actor`), { status: 400 });
  return actor;
}

const control = {
  "GET /_control/health": () => [200, {
    ok: true, origin: ORIGIN, user: USER, actor: `${ORIGIN}/users/${USER}`, node: process.version,
    firstKnock: FIRST_KNOCK,
  }],
  "GET /_control/inbox": () => [200, inbox],
  "GET /_control/requests": () => [200, requests],
  "GET /_control/fetches": () => [200, fetches],
  "GET /_control/state": () => [200, {
    followers: [...followers.keys()], sent, outbox: outbox.map((c) => c.id.href),
    following: [...following].map(([id, f]) => ({ id, follow: f.follow.id.href, accepted: f.accepted })),
  }],
  "POST /_control/reset": () => {
    for (const list of [inbox, requests, sent, fetches]) list.length = 0;
    return [200, { ok: true }];
  },
  "POST /_control/lookup": lookup,
  "POST /_control/follow": async (ctx, { target }) => {
    const actor = await findActor(ctx, target);
    const follow = new Follow({
      id: newId("follows"), actor: ctx.getActorUri(USER), object: actor.id, to: actor.id,
    });
    following.set(actor.id.href, { follow, accepted: false }); // before sending: Accept may be quick
    const entry = await deliver(ctx, actor, follow);
    return [entry.ok ? 200 : 502, entry];
  },
  // Like or Announce `object` (a post URL), delivered to the actor `to`.
  "POST /_control/react": async (ctx, { type, object, to }) => {
    const actor = await findActor(ctx, to);
    const make = { Like: (v) => new Like(v), Announce: (v) => new Announce(v) }[type];
    if (make == null) return [400, { error: `cannot react with ${type}` }];
    const audience = type === "Announce" // public, like a boost; a Like goes to the author only
      ? { to: PUBLIC_COLLECTION, ccs: [ctx.getFollowersUri(USER), actor.id] } : { to: actor.id };
    const activity = make({
      id: newId(type.toLowerCase()), actor: ctx.getActorUri(USER), object: new URL(object), ...audience,
    });
    reactions.set(activity.id.href, activity);
    const entry = await deliver(ctx, actor, activity);
    return [entry.ok ? 200 : 502, entry];
  },
  "POST /_control/undo": async (ctx, { id, to }) => {
    const actor = await findActor(ctx, to);
    const undone = reactions.get(id);
    if (undone == null) return [404, { error: `no reaction ${id}` }];
    const undo = new Undo({
      id: newId("undos"), actor: ctx.getActorUri(USER), object: undone, to: actor.id,
    });
    const entry = await deliver(ctx, actor, undo);
    return [entry.ok ? 200 : 502, entry];
  },
  "POST /_control/undo-follow": async (ctx, { target }) => {
    const actor = await findActor(ctx, target);
    const f = following.get(actor.id.href);
    if (f == null) return [404, { error: `not following ${actor.id.href}` }];
    const undo = new Undo({
      id: newId("undos"), actor: ctx.getActorUri(USER), object: f.follow, to: actor.id,
    });
    const entry = await deliver(ctx, actor, undo);
    if (entry.ok) following.delete(actor.id.href);
    return [entry.ok ? 200 : 502, entry];
  },
  "POST /_control/create-note": async (ctx, { content, to = [], inReplyTo = null }) => {
    const recipients = await Promise.all(to.map((t) => findActor(ctx, t)));
    const id = randomUUID();
    const audience = {
      to: PUBLIC_COLLECTION, ccs: [ctx.getFollowersUri(USER), ...recipients.map((r) => r.id)],
    };
    const note = new Note({
      id: ctx.getObjectUri(Note, { id }), attribution: ctx.getActorUri(USER), content, ...audience,
      replyTarget: inReplyTo ? new URL(inReplyTo) : null, published: Temporal.Now.instant(),
    });
    const create = new Create({
      id: new URL(`${note.id.href}/activity`), actor: ctx.getActorUri(USER), object: note, ...audience,
    });
    outbox.unshift(create);
    notes.set(id, note);
    const entry = recipients.length ? await deliver(ctx, recipients, create) : { ok: true };
    return [entry.ok ? 200 : 502, { ...entry, note: note.id.href }];
  },
  // For forged/replayed/unsigned deliveries: any body, signed with alice's RSA key or not.
  "POST /_control/send-raw": async (ctx, {
    inbox: url, activity, sign = true, spec = "draft-cavage-http-signatures-12", date = null,
    keyId = null, contentType = "application/activity+json",
  }) => {
    let req = new Request(url, {
      method: "POST", headers: { "Content-Type": contentType, Accept: "application/activity+json" },
      body: typeof activity === "string" ? activity : JSON.stringify(activity),
    });
    if (sign) {
      const [pair] = await ctx.getActorKeyPairs(USER);
      const currentTime = date ? Temporal.Instant.fromEpochMilliseconds(Date.parse(date)) : undefined;
      req = await signRequest(req, pair.privateKey, new URL(keyId ?? pair.keyId), { spec, currentTime });
    }
    const headers = Object.fromEntries(req.headers);
    const res = await fetch(req);
    return [200, { status: res.status, body: (await res.text()).slice(0, 4000), sentHeaders: headers }];
  },
};

function signatureInfo(h) {
  const input = h.get("signature-input");
  const cavage = h.get("signature") ?? h.get("authorization")?.replace(/^Signature /, "");
  const param = (s, name) => new RegExp(`${name}="([^"]*)"`).exec(s)?.[1] ?? null;
  return {
    contentType: h.get("content-type"), date: h.get("date"), digest: h.get("digest"),
    contentDigest: h.get("content-digest"),
    signature: input ? {
      scheme: "rfc9421", keyId: param(input, "keyid"), algorithm: param(input, "alg"), input,
    } : cavage ? {
      scheme: "draft-cavage", keyId: param(cavage, "keyId"), algorithm: param(cavage, "algorithm"),
      headers: param(cavage, "headers")?.split(" ") ?? null,
    } : null,
  };
}

// PEER_INBOX_SPEC: an inbox that accepts one signature spec only.  Fedify's inbox verifies
// either (it picks by the headers, and createFederation has no option to narrow it); its
// verifyRequest() takes a `spec`, so that is asked first and a refusal answered with 401.
async function refuseOtherSpec(request, url, data) {
  if (!INBOX_SPEC || request.method !== "POST" || !/\/inbox$/.test(url.pathname)) return null;
  const ctx = federation.createContext(new URL(ORIGIN), {});
  const key = await verifyRequest(request.clone(), {
    spec: INBOX_SPEC, documentLoader: ctx.documentLoader, contextLoader: ctx.contextLoader,
  });
  if (key != null) return null;
  const keyId = data.http.signature?.keyId ?? null;
  data.unverified = { reason: `not verified as ${INBOX_SPEC}`, keyId };
  return new Response("Unauthorized", { status: 401 });
}

async function handle(req, res) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const body = Buffer.concat(chunks);
  const url = new URL(req.url, ORIGIN);
  const route = control[`${req.method} ${url.pathname}`];
  if (route) {
    const ctx = federation.createContext(new URL(ORIGIN), {});
    let status, payload;
    try {
      [status, payload] = await route(ctx, body.length ? JSON.parse(body.toString("utf8")) : {});
    } catch (e) {
      [status, payload] = [e.status ?? 500, { error: String(e?.message ?? e) }];
    }
    res.writeHead(status, { "Content-Type": "application/json" });
    return res.end(JSON.stringify(payload));
  }
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  }
  const hasBody = !["GET", "HEAD"].includes(req.method);
  const request = new Request(url, { method: req.method, headers, body: hasBody ? body : undefined });
  let raw = null;
  try { raw = hasBody ? JSON.parse(body.toString("utf8")) : null; } catch { /* Fedify answers 400 */ }
  const data = { http: signatureInfo(headers), raw, unverified: null };
  const response = await refuseOtherSpec(request, url, data)
    ?? await federation.fetch(request, { contextData: data });
  if (req.method === "POST" && /\/inbox$/.test(url.pathname)) {
    requests.push({
      path: url.pathname, status: response.status, type: raw?.type ?? null, id: raw?.id ?? null,
      actor: raw?.actor ?? null, ...data.http, unverified: data.unverified,
    });
  }
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
}

console.log(`PEER READY ${ORIGIN}`);
