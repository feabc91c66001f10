// Preloaded into @portkey-ai/gateway's start-server.js by bench/run.sh (node --require). The
// gateway listens on every interface and takes only --port=N; this binds it to loopback instead,
// so `--port=0` gets a kernel-chosen port, and prints the shared "listening" log line on stderr
// so the harness learns that port the way it does for llmesh binaries (llmesh_port).
'use strict';
const net = require('net');

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (port, host, ...rest) {
  if (typeof port === 'number' && typeof host !== 'string') {
    // The gateway calls listen(port, undefined, callback): pin the host, keep the callback.
    const args = host === undefined ? rest : [host, ...rest];
    this.once('listening', () => {
      const { port: bound } = this.address();
      process.stderr.write(JSON.stringify({ ts: new Date().toISOString(), level: 'info', msg: 'listening',
        listener: 'portkey', address: `127.0.0.1:${bound}` }) + '\n');
    });
    return listen.call(this, port, '127.0.0.1', ...args);
  }
  return listen.call(this, port, host, ...rest);
};
