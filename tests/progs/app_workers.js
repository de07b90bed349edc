// A node.js program for tests/apps.bats: 4 worker_threads share a
// SharedArrayBuffer counter (Atomics) and post their SHA-256 digests to the
// main thread, which prints the total and a digest of the digests in worker
// order: exact and independent of scheduling.  A worker that fails makes the
// exit status 1.
'use strict';
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');
const crypto = require('crypto');
if (isMainThread) {
  const n = 4, sab = new SharedArrayBuffer(8 * 2), cnt = new BigInt64Array(sab);
  let done = 0; const hashes = new Array(n);
  for (let i = 0; i < n; i++) {
    const w = new Worker(__filename, { workerData: { id: i, sab } });
    w.on('message', (h) => { hashes[i] = h; });
    w.on('exit', (code) => {
      if (code !== 0) process.exitCode = 1;
      if (++done === n) console.log(`count=${Atomics.load(cnt, 0)} ${crypto.createHash('sha256').update(hashes.join()).digest('hex')}`);
    });
  }
} else {
  const cnt = new BigInt64Array(workerData.sab);
  let h = crypto.createHash('sha256');
  for (let i = 0; i < 20000; i++) { Atomics.add(cnt, 0, 1n); if (i % 100 === 0) h.update(`${workerData.id}:${i}`); }
  parentPort.postMessage(h.digest('hex'));
}
