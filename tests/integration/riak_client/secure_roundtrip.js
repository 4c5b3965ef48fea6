'use strict';
// Basho's Node.js Riak client against a node with security enabled, as a
// Riak user would set it up: TLS (the client sends RpbStartTls, expects the
// same code back, wraps the socket in TLS) and a login (RpbAuthReq), then a
// put/get round trip; and the refusals: a wrong password, an unknown user,
// a request without the grant, and a request without TLS. Exits non-zero
// on the first failure, naming the step.
//
// Usage: node secure_roundtrip.js [--host H] [--port P] [--ca FILE]
//          [--user U] [--password PW | --password-file FILE]
//          [--bucket B] [--denied-bucket D]
// Each option may come from the environment instead: RIAK_HOST, RIAK_PORT,
// RIAK_CA, RIAK_USER, RIAK_PASSWORD, RIAK_PASSWORD_FILE, RIAK_BUCKET,
// RIAK_DENIED_BUCKET. The user needs riak_kv.put and riak_kv.get on
// default/BUCKET (default "secure") and nothing on default/DENIED (default
// "secure_denied"); "nobody_<time>" must not exist.

const assert = require('assert');
const fs = require('fs');
const path = require('path');
const Riak = require('basho-riak-client');
// The client's connection class, for the login refusals: the high-level
// client retries a node whose connections fail instead of reporting why.
const RiakConnection = require(path.join(
    path.dirname(require.resolve('basho-riak-client')), 'lib', 'core',
    'riakconnection'));

function option(name, env, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  if (at >= 0 && at + 1 < process.argv.length) return process.argv[at + 1];
  if (process.env[env] !== undefined && process.env[env] !== '') {
    return process.env[env];
  }
  return fallback;
}

const host = option('host', 'RIAK_HOST', '127.0.0.1');
const port = Number(option('port', 'RIAK_PORT', '8087'));
const caFile = option('ca', 'RIAK_CA', '');
const user = option('user', 'RIAK_USER', '');
const passwordFile = option('password-file', 'RIAK_PASSWORD_FILE', '');
const password = passwordFile
  ? fs.readFileSync(passwordFile, 'utf8').split(/\r?\n/)[0]
  : option('password', 'RIAK_PASSWORD', '');
const bucket = option('bucket', 'RIAK_BUCKET', 'secure');
const deniedBucket = option('denied-bucket', 'RIAK_DENIED_BUCKET',
                            'secure_denied');
if (!caFile || !user || !Number.isInteger(port)) {
  console.error('secure_roundtrip: needs --ca FILE and --user U (and a ' +
                'password), see the header of this file');
  process.exit(2);
}
const ca = fs.readFileSync(caFile);

const watchdog = setTimeout(() => {
  console.error(`FAIL: no progress for 60 s (last step: ${currentStep})`);
  process.exit(1);
}, 60000);
watchdog.unref();

let currentStep = '(starting)';

async function step(name, fn) {
  currentStep = name;
  try {
    await fn();
  } catch (err) {
    console.error(`FAIL: ${name}: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
  }
  console.log(`ok: ${name}`);
}

function errorText(err) {
  if (typeof err === 'string') return err;
  return (err && (err.message || err.msg)) || JSON.stringify(err);
}

// One connection as the client makes it; resolves with 'connected' or the
// reason it failed to connect (StartTls, handshake or login refused).
function connectOnce(auth) {
  return new Promise((resolve) => {
    const conn = new RiakConnection({
      remoteAddress: host, remotePort: port, auth, connectionTimeout: 10000});
    conn.on('connected', () => {
      conn.close();
      resolve({connected: true});
    });
    conn.on('connectFailed', (c, err) => {
      resolve({connected: false, reason: errorText(err)});
    });
    conn.connect();
  });
}

// A client whose node logs in with `auth` (none: plain TCP).
function makeClient(auth) {
  const node = new Riak.Node({
    remoteAddress: host, remotePort: port, auth, minConnections: 1,
    maxConnections: 2, connectionTimeout: 10000, requestTimeout: 10000});
  const cluster = new Riak.Cluster({nodes: [node]});
  return new Promise((resolve, reject) => {
    const client = new Riak.Client(cluster, (err, c) =>
      (err ? reject(err) : resolve(c || client)));
  });
}

function call(client, method, options) {
  return new Promise((resolve, reject) => {
    client[method](options, (err, result) =>
      (err ? reject(new Error(`${method}: ${errorText(err)}`)) : resolve(result)));
  });
}

function stop(client) {
  return new Promise((resolve) => client.stop(() => resolve()));
}

async function main() {
  const value = `over TLS at ${new Date().toISOString()}`;
  let client = null;

  await step('log in over TLS', async () => {
    const r = await connectOnce({user, password, ca: [ca]});
    assert.ok(r.connected, `login refused: ${r.reason}`);
  });

  await step('put and get back over TLS', async () => {
    client = await makeClient({user, password, ca: [ca]});
    await call(client, 'storeValue', {bucket, key: 'roundtrip', value});
    const got = await call(client, 'fetchValue', {bucket, key: 'roundtrip'});
    assert.strictEqual(got.isNotFound, false);
    assert.deepStrictEqual(
        got.values.map((v) => v.getValue().toString('utf8')), [value]);
  });

  await step('a bucket without a grant is refused', async () => {
    let refusal = null;
    try {
      await call(client, 'storeValue',
                 {bucket: deniedBucket, key: 'k', value: 'no'});
    } catch (err) {
      refusal = err.message;
    }
    assert.ok(refusal, 'the put without a grant succeeded');
    assert.match(refusal, /Permission denied/);
    assert.match(refusal, /riak_kv\.put/);
  });
  await stop(client);

  await step('a wrong password is refused', async () => {
    const r = await connectOnce({user, password: `${password}-wrong`, ca: [ca]});
    assert.strictEqual(r.connected, false, 'logged in with a wrong password');
    assert.match(r.reason, /Authentication failed/);
  });

  await step('an unknown user is refused', async () => {
    const r = await connectOnce(
        {user: `nobody_${Date.now()}`, password, ca: [ca]});
    assert.strictEqual(r.connected, false, 'logged in as an unknown user');
    assert.match(r.reason, /Authentication failed/);
  });

  await step('without TLS the node asks for STARTTLS', async () => {
    const r = await connectOnce(undefined);
    assert.ok(r.connected, `plain connection failed: ${r.reason}`);
    const plain = await makeClient(undefined);
    let refusal = null;
    try {
      await call(plain, 'fetchValue', {bucket, key: 'roundtrip'});
    } catch (err) {
      refusal = err.message;
    }
    await stop(plain);
    assert.ok(refusal, 'served without TLS');
    assert.match(refusal, /please STARTTLS first/);
  });
}

main().then(() => process.exit(0), (err) => {
  console.error(`FAIL: ${currentStep}: ${err && err.stack ? err.stack : err}`);
  process.exit(1);
});
