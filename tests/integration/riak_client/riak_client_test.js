'use strict';
// Uses Causeway the way a new user of Basho's Node.js Riak client would, and
// asserts every answer. Exits non-zero on the first failure, naming the step.
//
// Usage: node riak_client_test.js HOST:PORT NODE_NAME [MEMBERS]
//   NODE_NAME  the name of the node at HOST:PORT
//   MEMBERS    comma-separated names of every member of its cluster
//              (default: NODE_NAME alone, a one-node cluster)

const assert = require('assert');
const Riak = require('basho-riak-client');

const [address, nodeName, membersArg] = process.argv.slice(2);
if (!address || !nodeName) {
  console.error('usage: node riak_client_test.js HOST:PORT NODE_NAME [MEMBERS]');
  process.exit(2);
}
const members = membersArg ? membersArg.split(',') : [nodeName];
if (!members.includes(nodeName)) {
  console.error(`MEMBERS (${members}) must include NODE_NAME (${nodeName})`);
  process.exit(2);
}

// The whole run is bounded so a request the server never answers fails the
// test with a message instead of hanging until CTest's timeout.
const watchdog = setTimeout(() => {
  console.error(`FAIL: no progress for 120 s (last step: ${currentStep})`);
  process.exit(1);
}, 120000);
watchdog.unref();

let currentStep = '(starting)';
let client = null;

// Wraps a callback-style client method in a promise.
function call(method, options) {
  return new Promise((resolve, reject) => {
    const cb = (err, result) => {
      if (err) {
        const detail = typeof err === 'string' ? err : (err.message || JSON.stringify(err));
        reject(new Error(`${method} failed: ${detail}`));
      } else {
        resolve(result);
      }
    };
    if (options === undefined) {
      client[method](cb);
    } else {
      client[method](options, cb);
    }
  });
}

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

function valuesOf(result) {
  return result.values.map((v) => v.getValue().toString('utf8')).sort();
}

// Riak encodes symbolic quorums near the top of the uint32 range.
const QUORUM = {one: 0xFFFFFFFE, quorum: 0xFFFFFFFD, all: 0xFFFFFFFC,
                default: 0xFFFFFFFB};

async function main() {
  // A unique suffix keeps reruns against a kept data dir independent.
  const run = Date.now().toString(36);
  const kv = `kv_${run}`;
  const sib = `siblings_${run}`;
  const listed = `listed_${run}`;
  const props = `props_${run}`;

  await step('connect', () => new Promise((resolve, reject) => {
    client = new Riak.Client([address], (err) => (err ? reject(err) : resolve()));
  }));

  await step('ping', async () => {
    const pong = await call('ping');
    assert.strictEqual(pong, true);
  });

  await step('fetch server info', async () => {
    const info = await call('fetchServerInfo');
    assert.strictEqual(info.node, nodeName);
    assert.ok(info.server_version && info.server_version.length > 0,
              `server version: ${JSON.stringify(info)}`);
  });

  await step('store a value', async () => {
    const r = await call('storeValue',
                         {bucket: kv, key: 'greeting', value: 'hello, causeway'});
    assert.ok(r, 'storeValue gave no response');
  });

  await step('fetch it back', async () => {
    const r = await call('fetchValue', {bucket: kv, key: 'greeting'});
    assert.strictEqual(r.isNotFound, false);
    assert.deepStrictEqual(valuesOf(r), ['hello, causeway']);
    assert.ok(r.vclock && r.vclock.length > 0, 'no vclock');
  });

  await step('store JSON with return_body and fetch it as JS', async () => {
    const doc = {name: 'Ada', langs: ['en', 'fr'], n: 3};
    const put = await call('storeValue',
                           {bucket: kv, key: 'doc', value: doc, returnBody: true});
    assert.strictEqual(put.values.length, 1, 'return_body gave no value');
    assert.ok(put.vclock && put.vclock.length > 0, 'return_body gave no vclock');
    const r = await call('fetchValue', {bucket: kv, key: 'doc', convertToJs: true});
    assert.strictEqual(r.values.length, 1);
    assert.deepStrictEqual(r.values[0].getValue(), doc);
  });

  await step('store without a key: the server generates one', async () => {
    const put = await call('storeValue', {bucket: kv, value: 'anonymous'});
    assert.ok(put.generatedKey && put.generatedKey.length > 0,
              `no generated key: ${JSON.stringify(put)}`);
    const r = await call('fetchValue', {bucket: kv, key: put.generatedKey});
    assert.deepStrictEqual(valuesOf(r), ['anonymous']);
  });

  await step('fetch a missing key: not found', async () => {
    const r = await call('fetchValue', {bucket: kv, key: 'no-such-key'});
    assert.strictEqual(r.isNotFound, true);
    assert.strictEqual(r.values.length, 0);
  });

  await step('set allow_mult=true on a bucket', async () => {
    await call('storeBucketProps', {bucket: sib, allowMult: true});
    const p = await call('fetchBucketProps', {bucket: sib});
    assert.strictEqual(p.allowMult, true);
  });

  let siblingsVclock = null;
  await step('two concurrent writes make two siblings', async () => {
    // Neither write carries a context, so neither supersedes the other.
    await Promise.all([
      call('storeValue', {bucket: sib, key: 'doc', value: 'from alice'}),
      call('storeValue', {bucket: sib, key: 'doc', value: 'from bob'}),
    ]);
    const r = await call('fetchValue', {bucket: sib, key: 'doc'});
    assert.deepStrictEqual(valuesOf(r), ['from alice', 'from bob']);
    siblingsVclock = r.vclock;
    assert.ok(siblingsVclock && siblingsVclock.length > 0, 'no vclock');
  });

  await step('a write with the fetched vclock resolves the siblings', async () => {
    await call('storeValue',
               {bucket: sib, key: 'doc', value: 'merged', vclock: siblingsVclock});
    const r = await call('fetchValue', {bucket: sib, key: 'doc'});
    assert.deepStrictEqual(valuesOf(r), ['merged']);
  });

  await step('resolving through a conflict resolver and a RiakObject', async () => {
    await call('storeValue', {bucket: sib, key: 'doc2', value: 'x'});
    await call('storeValue', {bucket: sib, key: 'doc2', value: 'y'});
    const r = await call('fetchValue', {
      bucket: sib, key: 'doc2',
      conflictResolver: (objs) => {
        assert.strictEqual(objs.length, 2, 'expected two siblings');
        return objs[0];
      },
    });
    assert.strictEqual(r.values.length, 1);
    const obj = r.values[0];
    obj.setValue('x+y');
    await call('storeValue', {value: obj});  // carries bucket, key and vclock
    const after = await call('fetchValue', {bucket: sib, key: 'doc2'});
    assert.deepStrictEqual(valuesOf(after), ['x+y']);
  });

  await step('delete, then fetch: not found', async () => {
    const r = await call('fetchValue', {bucket: sib, key: 'doc'});
    const deleted = await call('deleteValue',
                               {bucket: sib, key: 'doc', vclock: r.vclock});
    assert.strictEqual(deleted, true);
    const after = await call('fetchValue', {bucket: sib, key: 'doc'});
    assert.strictEqual(after.isNotFound, true,
                       `still there: ${JSON.stringify(valuesOf(after))}`);
  });

  const keys = ['k0', 'k1', 'k2', 'k3', 'k4'];
  await step('list keys', async () => {
    for (const k of keys) {
      await call('storeValue', {bucket: listed, key: k, value: `value of ${k}`});
    }
    const r = await call('listKeys', {bucket: listed, stream: false});
    assert.deepStrictEqual(r.keys.slice().sort(), keys);
  });

  await step('list keys, streamed', async () => {
    const seen = [];
    await new Promise((resolve, reject) => {
      client.listKeys({bucket: listed, stream: true}, (err, r) => {
        if (err) return reject(new Error(`listKeys failed: ${err}`));
        seen.push(...r.keys);
        if (r.done) resolve();
      });
    });
    assert.deepStrictEqual(seen.sort(), keys);
  });

  await step('list buckets', async () => {
    const r = await call('listBuckets', {stream: false});
    for (const b of [kv, listed]) {
      assert.ok(r.buckets.includes(b), `${b} missing from ${JSON.stringify(r.buckets)}`);
    }
  });

  await step('read default bucket properties', async () => {
    const p = await call('fetchBucketProps', {bucket: props});
    assert.strictEqual(p.nVal, 3);
    assert.strictEqual(p.allowMult, false);
    assert.strictEqual(p.lastWriteWins, false);
    assert.strictEqual(p.notFoundOk, true);
    assert.strictEqual(p.basicQuorum, false);
    for (const q of ['r', 'w', 'dw', 'rw', 'pr', 'pw']) {
      assert.ok(typeof p[q] === 'number', `${q} is ${p[q]}`);
    }
    assert.strictEqual(p.r, QUORUM.quorum, `r is ${p.r}`);
    assert.strictEqual(p.w, QUORUM.quorum, `w is ${p.w}`);
  });

  await step('write bucket properties and read them back', async () => {
    await call('storeBucketProps',
               {bucket: props, nVal: 2, r: 1, w: QUORUM.all, notFoundOk: false});
    const p = await call('fetchBucketProps', {bucket: props});
    assert.strictEqual(p.nVal, 2);
    assert.strictEqual(p.r, 1);
    assert.strictEqual(p.w, QUORUM.all);
    assert.strictEqual(p.notFoundOk, false);
    assert.strictEqual(p.allowMult, false, 'an unset property must not change');
    // Other buckets are unaffected.
    const other = await call('fetchBucketProps', {bucket: kv});
    assert.strictEqual(other.nVal, 3);
  });

  await step('reset bucket properties', async () => {
    await call('resetBucketProps', {bucket: props});
    const p = await call('fetchBucketProps', {bucket: props});
    assert.strictEqual(p.nVal, 3);
    assert.strictEqual(p.notFoundOk, true);
  });

  await step('read the default bucket type', async () => {
    const p = await call('fetchBucketTypeProps', {bucketType: 'default'});
    assert.strictEqual(p.nVal, 3);
  });

  await step('fetch a preflist', async () => {
    // As in Riak, n_val (3) partitions. Causeway keeps at most one replica
    // of a key per node, so with three or more members they are on three
    // distinct nodes; a smaller cluster lists some node more than once.
    // The owner of the key's own partition comes first and is a primary.
    const r = await call('fetchPreflist', {bucket: kv, key: 'greeting'});
    assert.strictEqual(r.preflist.length, 3, JSON.stringify(r.preflist));
    const nodes = r.preflist.map((item) => item.node);
    assert.strictEqual(new Set(nodes).size, Math.min(3, members.length),
                       `nodes: ${nodes}`);
    assert.strictEqual(new Set(r.preflist.map((item) => item.partition)).size,
                       3, `repeated partitions: ${JSON.stringify(r.preflist)}`);
    assert.strictEqual(r.preflist[0].primary, true, JSON.stringify(r.preflist));
    for (const item of r.preflist) {
      assert.ok(members.includes(item.node), `${item.node} is not a member`);
      assert.ok(Number.isInteger(item.partition) && item.partition >= 0 &&
                item.partition < 64, `partition ${item.partition}`);
    }
    // The same key always maps to the same partition.
    const again = await call('fetchPreflist', {bucket: kv, key: 'greeting'});
    assert.deepStrictEqual(again.preflist, r.preflist);
  });

  await step('an unknown bucket type is an error, not a hang', async () => {
    await assert.rejects(
        call('fetchValue', {bucket: kv, bucketType: 'no_such_type', key: 'k'}));
  });

  await step('the connection still works after the error', async () => {
    const r = await call('fetchValue', {bucket: kv, key: 'greeting'});
    assert.deepStrictEqual(valuesOf(r), ['hello, causeway']);
  });

  // Data types: the run script created the bucket types counters, sets and
  // maps (datatype=counter, set, map).
  const dtBucket = `dt_${Date.now()}`;
  await step('increment a counter twice and read the sum', async () => {
    const key = 'visits';
    await call('updateCounter',
        {bucketType: 'counters', bucket: dtBucket, key, increment: 5});
    const r = await call('updateCounter',
        {bucketType: 'counters', bucket: dtBucket, key, increment: -2});
    assert.strictEqual(r.counterValue, 3);
    const f = await call('fetchCounter',
        {bucketType: 'counters', bucket: dtBucket, key});
    assert.strictEqual(f.counterValue, 3);
    assert.ok(!f.isNotFound);
  });

  await step('a counter never written is not found', async () => {
    const f = await call('fetchCounter',
        {bucketType: 'counters', bucket: dtBucket, key: 'never'});
    assert.ok(f.isNotFound);
  });

  await step('a counter update with a generated key', async () => {
    const r = await call('updateCounter',
        {bucketType: 'counters', bucket: dtBucket, increment: 7});
    assert.ok(r.generatedKey, JSON.stringify(r));
    const f = await call('fetchCounter',
        {bucketType: 'counters', bucket: dtBucket, key: r.generatedKey});
    assert.strictEqual(f.counterValue, 7);
  });

  await step('add to a set, then remove with the context', async () => {
    const key = 'colours';
    const added = await call('updateSet', {bucketType: 'sets',
      bucket: dtBucket, key, additions: ['red', 'green', 'blue']});
    assert.deepStrictEqual(added.values.map(String).sort(),
        ['blue', 'green', 'red']);
    assert.ok(added.context);
    await call('updateSet', {bucketType: 'sets', bucket: dtBucket, key,
      removals: ['green'], context: added.context});
    const f = await call('fetchSet', {bucketType: 'sets', bucket: dtBucket, key});
    assert.deepStrictEqual(f.values.map(String).sort(), ['blue', 'red']);
  });

  await step('removing what the set never held is refused', async () => {
    await assert.rejects(call('updateSet', {bucketType: 'sets',
      bucket: dtBucket, key: 'colours', removals: ['purple']}));
    const f = await call('fetchSet',
        {bucketType: 'sets', bucket: dtBucket, key: 'colours'});
    assert.deepStrictEqual(f.values.map(String).sort(), ['blue', 'red']);
  });

  await step('a counter operation on a set bucket type is refused', async () => {
    await assert.rejects(call('updateCounter',
        {bucketType: 'sets', bucket: dtBucket, key: 'colours', increment: 1}));
  });

  await step('a key/value put into a data-type bucket is refused', async () => {
    await assert.rejects(call('storeValue', {bucketType: 'counters',
      bucket: dtBucket, key: 'kv', value: 'not a counter'}));
  });

  await step('update a map with nested fields, then remove one', async () => {
    const key = 'profile';
    const op = new Riak.Commands.CRDT.UpdateMap.MapOperation();
    op.incrementCounter('logins', 2).addToSet('tags', 'new')
        .setRegister('name', Buffer.from('alice')).setFlag('active', true);
    op.map('address').setRegister('city', Buffer.from('Seoul'));
    const r = await call('updateMap', {bucketType: 'maps', bucket: dtBucket,
      key, op, returnBody: true});
    assert.strictEqual(r.map.counters.logins, 2);
    assert.deepStrictEqual(r.map.sets.tags.map(String), ['new']);
    assert.strictEqual(r.map.registers.name.toString(), 'alice');
    assert.strictEqual(r.map.flags.active, true);
    assert.strictEqual(r.map.maps.address.registers.city.toString(), 'Seoul');
    const remove = new Riak.Commands.CRDT.UpdateMap.MapOperation();
    remove.removeCounter('logins');
    await call('updateMap', {bucketType: 'maps', bucket: dtBucket, key,
      op: remove, context: r.context});
    const f = await call('fetchMap', {bucketType: 'maps', bucket: dtBucket, key});
    assert.strictEqual(f.map.counters.logins, undefined);
    assert.strictEqual(f.map.registers.name.toString(), 'alice');
  });

  await step('stop the client', () => new Promise((resolve, reject) => {
    client.stop((err) => (err ? reject(err) : resolve()));
  }));
}

main().then(() => {
  console.log('riak_client_test: all steps passed');
  process.exit(0);
}, (err) => {
  console.error(`FAIL: ${currentStep}: ${err}`);
  process.exit(1);
});
