import t from 'tap';
import { Buffer } from 'node:buffer';
import { MAX_SHELL_FRAME, SHELL_FRAME, ShellFrameDecoder, encodeShellData, encodeShellFrame, exitFrame, readExit, readResize, resizeFrame } from './shell-frames.ts';

t.test('shell frames: golden bytes of a stdin, resize and exit frame', async (t) => {
  t.equal(encodeShellFrame(SHELL_FRAME.stdin, Buffer.from('ls\r')).toString('hex'), '0100000003' + '6c730d');
  t.equal(resizeFrame(24, 80).toString('hex'), '0400000004' + '00180050');
  t.equal(exitFrame(130).toString('hex'), '0700000004' + '00000082');
  t.equal(encodeShellFrame(SHELL_FRAME.eof).toString('hex'), '0600000000');
});

t.test('shell frames: decoded whole from any split of the byte stream', async (t) => {
  const bytes = Buffer.concat([encodeShellFrame(SHELL_FRAME.stdout, Buffer.from('hello')), resizeFrame(50, 132), exitFrame(-1)]);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const d = new ShellFrameDecoder();
    const frames = [...d.push(bytes.subarray(0, cut)), ...d.push(bytes.subarray(cut))];
    t.same(frames.map((f) => f.type), [SHELL_FRAME.stdout, SHELL_FRAME.resize, SHELL_FRAME.exit], `cut at ${cut}`);
    t.equal(frames[0]?.payload.toString(), 'hello');
    t.same(readResize(frames[1]!.payload), { rows: 50, cols: 132 });
    t.equal(readExit(frames[2]!.payload), -1);
    t.equal(d.pending, 0);
  }
});

t.test('shell frames: large output is split into bounded frames', async (t) => {
  const data = Buffer.alloc(MAX_SHELL_FRAME * 2 + 5, 7);
  const frames = encodeShellData(SHELL_FRAME.stdout, data);
  t.same(frames.map((f) => f.length - 5), [MAX_SHELL_FRAME, MAX_SHELL_FRAME, 5]);
  t.throws(() => encodeShellFrame(SHELL_FRAME.stdout, data), RangeError);
});

t.test('shell frames: an unknown type or an oversized length is refused, not buffered', async (t) => {
  t.throws(() => new ShellFrameDecoder().push(Buffer.from('0900000000', 'hex')), /unknown shell frame type 9/);
  t.throws(() => new ShellFrameDecoder().push(Buffer.from('02ffffffff', 'hex')), /larger than/);
  t.equal(readResize(Buffer.alloc(3)), undefined);
});
