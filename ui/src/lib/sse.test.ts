import { describe, expect, it } from 'vitest';
import { SseParser, type SseMessage } from './sse';

function parse(chunks: string[]): { msgs: SseMessage[]; parser: SseParser } {
  const msgs: SseMessage[] = [];
  const parser = new SseParser((m) => msgs.push(m));
  for (const c of chunks) parser.push(c);
  return { msgs, parser };
}

describe('SseParser', () => {
  it('parses named events with JSON data', () => {
    const { msgs } = parse(['event: heartbeat\ndata: {"type":"heartbeat","now":1}\n\n']);
    expect(msgs).toEqual([{ event: 'heartbeat', data: '{"type":"heartbeat","now":1}', id: '' }]);
  });

  it('defaults the event name to "message" and joins multi-line data', () => {
    const { msgs } = parse(['data: a\ndata: b\n\n']);
    expect(msgs).toEqual([{ event: 'message', data: 'a\nb', id: '' }]);
  });

  it('handles any chunking, down to one character at a time', () => {
    const text = 'event: mentions\ndata: {"count":2}\n\nevent: resync\ndata: {}\n\n';
    const { msgs } = parse(text.split(''));
    expect(msgs.map((m) => m.event)).toEqual(['mentions', 'resync']);
    expect(msgs[0]!.data).toBe('{"count":2}');
  });

  it('accepts \\r\\n and \\r line ends, also split across chunks', () => {
    const { msgs } = parse(['event: a\r', '\ndata: 1\r\n\r', '\nevent: b\rdata: 2\r\r']);
    expect(msgs.map((m) => [m.event, m.data])).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
  });

  it('ignores comments, unknown fields, and blank events without data', () => {
    const { msgs } = parse([': keep-alive\n\nfoo: bar\nevent: x\n\ndata: ok\n\n']);
    expect(msgs).toEqual([{ event: 'message', data: 'ok', id: '' }]);
  });

  it('keeps the value as-is after the first optional space, and fields without colon', () => {
    const { msgs } = parse(['data:  two spaces\ndata\ndata:no-space\n\n']);
    expect(msgs[0]!.data).toBe(' two spaces\n\nno-space');
  });

  it('remembers the last id and reads retry', () => {
    const { msgs, parser } = parse(['id: 7\nretry: 3000\ndata: a\n\ndata: b\n\nretry: soon\n']);
    expect(msgs.map((m) => m.id)).toEqual(['7', '7']);
    expect(parser.retry).toBe(3000);
  });

  it('drops an unterminated message at end of stream', () => {
    const { msgs, parser } = parse(['data: complete\n\ndata: partial']);
    parser.end();
    parser.push('\n\n');
    expect(msgs.map((m) => m.data)).toEqual(['complete']);
  });

  it('keeps multibyte text intact (decoding is the caller’s, parsing does not split it)', () => {
    const { msgs } = parse(['data: {"text":"caf', 'é 🌞"}\n\n']);
    expect(JSON.parse(msgs[0]!.data)).toEqual({ text: 'café 🌞' });
  });
});
