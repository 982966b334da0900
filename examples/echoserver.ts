// gevent's examples/echoserver.py: a StreamServer that greets each client and echoes its lines, read
// with makefile() and readline(), until the client sends `quit` or hangs up.
//
//   npx geventjs run examples/echoserver.ts --real   # serves 127.0.0.1:16000 until Ctrl-C: telnet 127.0.0.1 16000
//   npx geventjs run examples/echoserver.ts          # sim mode: a scripted telnet session plays the user
//
// gevent's binds 0.0.0.0; real mode binds loopback unless told otherwise (PORT picks another port,
// 0 a free one).
import { StreamServer, createConnection, getHub, type Socket, type Address } from 'geventjs';

const decoder = new TextDecoder();
const show = (line: Uint8Array): string => JSON.stringify(decoder.decode(line)); // Python's %r, near enough

// this handler will be run for each incoming connection in a dedicated greenlet
async function echo(socket: Socket, address: Address): Promise<void> {
  console.log(`New connection from ${address[0]}:${address[1]}`);
  await socket.sendall('Welcome to the echo server! Type quit to exit.\r\n');
  // using a makefile because we want to use readline()
  const rfileobj = socket.makefile('rb');
  for (;;) {
    const line = await rfileobj.readline();
    if (line.length === 0) {
      console.log('client disconnected');
      break;
    }
    if (decoder.decode(line).trim().toLowerCase() === 'quit') {
      console.log('client quit');
      break;
    }
    await socket.sendall(line);
    console.log(`echoed ${show(line)}`);
  }
  await rfileobj.close();
}

const port = Number(globalThis.process?.env.PORT ?? 16000); // (no `process` in a browser)
const server = new StreamServer(['127.0.0.1', port], echo);

if (getHub().mode === 'real') {
  await server.start();
  console.log(`Starting echo server on port ${server.address[1]}`);
  await server.serveForever();
} else {
  // Nothing outside a simulation can connect to it: a telnet session, scripted, plays the user.
  await server.start();
  console.log(`Starting echo server on port ${server.address[1]}`);
  const telnet = await createConnection(['127.0.0.1', server.address[1]]);
  const tty = telnet.makefile('r');
  console.log(`> ${(await tty.readline()).trimEnd()}`);
  for (const typed of ['hello', 'gevent in TypeScript', 'quit']) {
    await telnet.sendall(`${typed}\r\n`);
    if (typed !== 'quit') console.log(`> ${(await tty.readline()).trimEnd()}`);
  }
  console.log(`> (connection closed: ${(await tty.read()) === '' ? 'EOF' : 'more data'})`);
  telnet.close();
  await server.stop();
}
