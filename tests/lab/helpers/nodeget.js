// nodeget.js -- one HTTPS GET with Node's https module (hard-negatives lab).
//   node nodeget.js URL CAFILE [--alpn p1,p2] [--tls-max TLSv1.2]
// Node's https client sends NO ALPN unless ALPNProtocols is given. The name in URL is
// resolved through /etc/hosts (the lab bind-mounts its own), never through DNS.
'use strict';
const https = require('https');
const fs = require('fs');
const [url, cafile, ...rest] = process.argv.slice(2);
const opts = { ca: fs.readFileSync(cafile), headers: { 'User-Agent': 'node', Accept: '*/*' }, agent: false };
for (let i = 0; i < rest.length; i += 2) {
  if (rest[i] === '--alpn') opts.ALPNProtocols = rest[i + 1].split(',');
  if (rest[i] === '--tls-max') opts.maxVersion = rest[i + 1];
}
const req = https.get(url, opts, (res) => {
  let n = 0;
  res.on('data', (d) => { n += d.length; });
  res.on('end', () => {
    console.error(`  [node] ${url} ${res.statusCode} ${n} bytes ${res.socket.getProtocol ? res.socket.getProtocol() : ''} alpn=${res.socket.alpnProtocol}`);
  });
});
req.setTimeout(30000, () => req.destroy(new Error('timeout')));
req.on('error', (e) => { console.error(`  [node] ${url} error ${e.message}`); process.exitCode = 1; });
