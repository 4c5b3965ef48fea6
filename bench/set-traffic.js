// What one set add costs a running cluster as the set grows: the delta
// bytes sent to the other replicas, all peer bytes (net of the background
// traffic of an idle window as long), the nodes' CPU time and the growth of
// their data directories, per add, at each set size.
//
// Usage (a cluster started by cluster/up, a bucket type of datatype set):
//   NODE_PATH=DIR/node_modules node bench/set-traffic.js \
//     --cluster-dir var/cluster --type sets --sizes 1000,10000,100000 \
//     --samples 200
// DIR holds an npm install of basho-riak-client (the integration test
// installs one under its work directory).
'use strict';

const fs = require('fs');
const http = require('http');
const crypto = require('crypto');
const Riak = require('basho-riak-client');

function parseArgs(argv) {
  const args = {clusterDir: 'var/cluster', type: 'sets', bucket: 'traffic',
                sizes: [1000, 10000, 100000], samples: 200, batch: 1000};
  for (let i = 2; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--cluster-dir') args.clusterDir = value;
    else if (flag === '--type') args.type = value;
    else if (flag === '--bucket') args.bucket = value;
    else if (flag === '--sizes') args.sizes = value.split(',').map(Number);
    else if (flag === '--samples') args.samples = Number(value);
    else throw new Error('unknown flag ' + flag);
  }
  return args;
}

// nodes file: NAME PB_ADDR HTTP_ADDR PID PEER_ADDR
function readNodes(dir) {
  return fs.readFileSync(dir + '/nodes', 'utf8').trim().split('\n').map(
      (line) => {
        const [name, pb, admin, pid] = line.split(/\s+/);
        return {name, pb, admin, pid: Number(pid),
                data: dir + '/' + name.split('@')[0] + '/data'};
      });
}

function getJson(addr, path) {
  return new Promise((resolve, reject) => {
    http.get('http://' + addr + path, (res) => {
      let body = '';
      res.on('data', (c) => body += c);
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
}

function cpuSeconds(pid) {
  const fields = fs.readFileSync('/proc/' + pid + '/stat', 'utf8')
                     .split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;  // utime + stime
}

function dirBytes(dir) {
  let total = 0;
  for (const f of fs.readdirSync(dir)) {
    const st = fs.statSync(dir + '/' + f);
    total += st.isDirectory() ? dirBytes(dir + '/' + f) : st.size;
  }
  return total;
}

async function snapshot(nodes) {
  const s = {deltaBytes: 0, deltas: 0, peerBytes: 0, cpu: 0, disk: 0};
  for (const n of nodes) {
    const st = await getJson(n.admin, '/stats');
    s.deltaBytes += st.deltas.sent_bytes;
    s.deltas += st.deltas.sent;
    s.peerBytes += st.peer.bytes_sent;
    s.cpu += cpuSeconds(n.pid);
    s.disk += dirBytes(n.data);
  }
  return s;
}

function diff(a, b) {
  const d = {};
  for (const k of Object.keys(a)) d[k] = b[k] - a[k];
  return d;
}

function call(client, method, options) {
  return new Promise((resolve, reject) => {
    client[method](options, (err, resp) => err ? reject(err) : resolve(resp));
  });
}

const element = () => crypto.randomBytes(8).toString('hex');  // 16 bytes

async function fill(client, args, key, size) {
  for (let have = 0; have < size; have += args.batch) {
    const additions = [];
    for (let i = 0; i < Math.min(args.batch, size - have); ++i) {
      additions.push(element());
    }
    await call(client, 'updateSet', {bucketType: args.type,
      bucket: args.bucket, key, additions, returnBody: false});
  }
}

async function measure(client, nodes, args, size) {
  const key = 'set-' + size + '-' + Date.now();
  await fill(client, args, key, size);
  await new Promise((r) => setTimeout(r, 2000));  // let the fill settle
  const before = await snapshot(nodes);
  const start = Date.now();
  for (let i = 0; i < args.samples; ++i) {
    await call(client, 'updateSet', {bucketType: args.type,
      bucket: args.bucket, key, additions: [element()], returnBody: false});
  }
  const elapsed = Date.now() - start;
  const after = await snapshot(nodes);
  await new Promise((r) => setTimeout(r, elapsed));  // idle, as long
  const idle = diff(after, await snapshot(nodes));
  const busy = diff(before, after);
  const n = args.samples;
  return {
    size,
    delta_bytes_per_replica: busy.deltaBytes / busy.deltas,
    deltas_per_add: busy.deltas / n,
    peer_bytes_per_add: (busy.peerBytes - idle.peerBytes) / n,
    cpu_ms_per_add: 1000 * (busy.cpu - idle.cpu) / n,
    disk_bytes_per_add: busy.disk / n,
    ms_per_add: elapsed / n,
  };
}

async function main() {
  const args = parseArgs(process.argv);
  const nodes = readNodes(args.clusterDir);
  const client = new Riak.Client([nodes[0].pb]);
  const rows = [];
  for (const size of args.sizes) {
    rows.push(await measure(client, nodes, args, size));
    console.error('measured', size);
  }
  console.log(JSON.stringify(rows, null, 1));
  client.stop(() => {});
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
