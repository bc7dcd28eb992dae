import { describe, expect, it } from 'vitest';
import { SseParser } from './sse';

describe('SseParser', () => {
  it('parses named events with ids and JSON data', () => {
    const p = new SseParser();
    const evs = p.feed('event: reply\ndata: {"id":7}\n\nid: 1\nevent: token\ndata: {"text":"Hi"}\n\n');
    expect(evs).toEqual([
      { event: 'reply', data: '{"id":7}', id: null },
      { event: 'token', data: '{"text":"Hi"}', id: '1' },
    ]);
    expect(p.lastEventId).toBe('1');
  });

  it('reassembles events split at any byte boundary', () => {
    const wire = 'id: 41\nevent: token\ndata: {"text":" wor"}\n\nid: 42\nevent: token\ndata: {"text":"ld"}\n\nevent: done\ndata: {"message_id":3}\n\n';
    for (let cut = 1; cut < wire.length; cut++) {
      const p = new SseParser();
      const evs = [...p.feed(wire.slice(0, cut)), ...p.feed(wire.slice(cut))];
      expect(evs.map((e) => e.event)).toEqual(['token', 'token', 'done']);
      expect(evs[1]).toEqual({ event: 'token', data: '{"text":"ld"}', id: '42' });
      expect(evs[2].id).toBe('42'); // the last id stays in force
    }
  });

  it('handles CRLF and CR line endings, including CRLF split across chunks', () => {
    const p = new SseParser();
    const evs = [...p.feed('data: a\r'), ...p.feed('\ndata: b\r\n\r'), ...p.feed('\ndata: c\r\r')];
    expect(evs.map((e) => e.data)).toEqual(['a\nb', 'c']);
  });

  it('joins multi-line data, ignores comments and unknown fields, defaults the event name', () => {
    const p = new SseParser();
    const evs = p.feed(': heartbeat\n\nfoo: bar\ndata: line1\ndata:line2\ndata\n\n');
    expect(evs).toEqual([{ event: 'message', data: 'line1\nline2\n', id: null }]);
  });

  it('does not emit an event without data and resets the event name', () => {
    const p = new SseParser();
    expect(p.feed('event: ping\n\n')).toEqual([]);
    expect(p.feed('data: x\n\n')[0].event).toBe('message');
  });

  it('reads retry, rejects ids containing NUL, and drops an unterminated event at end', () => {
    const p = new SseParser();
    p.feed('retry: 1500\nid: 5\n\nid: bad\0id\ndata: y\n\n');
    expect(p.retryMs).toBe(1500);
    expect(p.lastEventId).toBe('5');
    expect(p.feed('data: incomplete')).toEqual([]);
    p.end();
    expect(p.feed('\n\n')).toEqual([]);
  });

  it('keeps unicode intact', () => {
    const p = new SseParser();
    expect(p.feed('data: {"text":"안녕 你好 🐰"}\n\n')[0].data).toBe('{"text":"안녕 你好 🐰"}');
  });
});
