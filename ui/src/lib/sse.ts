// A small incremental parser for Server-Sent Events (the `text/event-stream` format of the
// WHATWG HTML standard, section 9.2.6). We parse SSE ourselves because EventSource cannot send
// an Authorization header; the HTTP transport reads the stream with fetch() and feeds us chunks.

export interface SseMessage {
  /** The `event:` field, or "message" when absent. */
  event: string;
  /** The `data:` lines joined with "\n". */
  data: string;
  /** The last `id:` seen (persists across messages, as in the standard). */
  id: string;
}

export class SseParser {
  private buf = '';
  private data: string[] = [];
  private event = '';
  private lastId = '';
  private sawCr = false;
  /** A `retry:` value in ms, when the server sent one. */
  retry: number | null = null;

  constructor(private readonly onMessage: (m: SseMessage) => void) {}

  /** Feed decoded text (any chunking, any of \r\n, \n, \r line ends). */
  push(chunk: string): void {
    let text = chunk;
    // A "\r\n" split across chunks: the "\r" already ended the line, drop the "\n".
    if (this.sawCr && text.startsWith('\n')) text = text.slice(1);
    this.sawCr = false;
    this.buf += text;
    let start = 0;
    for (let i = 0; i < this.buf.length; i++) {
      const c = this.buf.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = this.buf.slice(start, i);
      if (c === 13) {
        if (i + 1 < this.buf.length) {
          if (this.buf.charCodeAt(i + 1) === 10) i++;
        } else {
          this.sawCr = true;
        }
      }
      start = i + 1;
      this.line(line);
    }
    this.buf = this.buf.slice(start);
  }

  /** End of stream: an unterminated message is discarded, as the standard says. */
  end(): void {
    this.buf = '';
    this.data = [];
    this.event = '';
    this.sawCr = false;
  }

  private line(line: string): void {
    if (line === '') {
      this.dispatch();
      return;
    }
    if (line.startsWith(':')) return; // comment / keep-alive
    const colon = line.indexOf(':');
    let field = line;
    let value = '';
    if (colon >= 0) {
      field = line.slice(0, colon);
      value = line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
    }
    switch (field) {
      case 'event':
        this.event = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break; // unknown fields are ignored
    }
  }

  private dispatch(): void {
    if (this.data.length === 0) {
      this.event = '';
      return;
    }
    const msg: SseMessage = {
      event: this.event || 'message',
      data: this.data.join('\n'),
      id: this.lastId,
    };
    this.data = [];
    this.event = '';
    this.onMessage(msg);
  }
}
