// Version negotiation helpers (SPEC.md §2): the WebSocket subprotocol names the major version.
import t from 'tap';
import { describeVersions, majorFromSubprotocol, offeredSubprotocols, parseOfferedSubprotocols, selectSubprotocol, subprotocolFor, SUPPORTED_MAJORS } from './versions.ts';

t.test('versions: subprotocol tokens name the major and parse back', async (t) => {
  t.equal(subprotocolFor(1), 'drover.v1');
  t.equal(majorFromSubprotocol('drover.v1'), 1);
  for (const bad of ['drover.v', 'drover.v01', 'drover.v1x', 'other.v1', '', 'drover.v123456']) t.equal(majorFromSubprotocol(bad), undefined, bad);
});

t.test('versions: the server picks the newest major both sides support, from a header or a list', async (t) => {
  t.equal(selectSubprotocol('drover.v9, drover.v1'), 'drover.v1');
  t.equal(selectSubprotocol(new Set(['drover.v1'])), 'drover.v1');
  t.equal(selectSubprotocol(['drover.v1', 'drover.v2'], [2, 1]), 'drover.v2', 'newest first when both are supported');
  t.equal(selectSubprotocol(undefined), undefined);
  t.same(parseOfferedSubprotocols(' a ,b,, '), ['a', 'b']);
});

t.test('versions: clients offer every supported major, newest first; drover version lists them', async (t) => {
  t.same(offeredSubprotocols(), SUPPORTED_MAJORS.map((m) => `drover.v${m}`));
  t.same(describeVersions(), ['1.2']);
});
