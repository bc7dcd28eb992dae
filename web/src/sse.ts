// Incremental parser for the server-sent-events wire format (WHATWG HTML §9.2).
// Feed it decoded text chunks as they arrive; it returns the complete events.
// Not thread-related; one parser per stream.

export interface SseEvent {
  event: string; // "message" when the stream named none
  data: string; // data lines joined with "\n"
  id: string | null; // the last event id in force after this event (null: never set)
}

export class SseParser {
  private buf = '';
  private data: string[] = [];
  private event = '';
  private lastId: string | null = null;
  private sawCr = false;
  retryMs: number | null = null;

  /** The id a reconnecting client sends as Last-Event-ID. */
  get lastEventId(): string | null {
    return this.lastId;
  }

  feed(chunk: string): SseEvent[] {
    const out: SseEvent[] = [];
    let text = chunk;
    // A "\r\n" split across chunks: the "\r" already ended a line, skip the "\n".
    if (this.sawCr && text.startsWith('\n')) text = text.slice(1);
    this.sawCr = false;
    this.buf += text;
    let start = 0;
    for (let i = 0; i < this.buf.length; i++) {
      const c = this.buf[i];
      if (c !== '\n' && c !== '\r') continue;
      const line = this.buf.slice(start, i);
      if (c === '\r') {
        if (i + 1 < this.buf.length) {
          if (this.buf[i + 1] === '\n') i++;
        } else {
          this.sawCr = true;
        }
      }
      start = i + 1;
      const ev = this.line(line);
      if (ev) out.push(ev);
    }
    this.buf = this.buf.slice(start);
    return out;
  }

  /** Call at end of stream; an unterminated event is discarded, per the spec. */
  end(): void {
    this.buf = '';
    this.data = [];
    this.event = '';
  }

  private line(line: string): SseEvent | null {
    if (line === '') {
      if (this.data.length === 0) {
        this.event = '';
        return null;
      }
      const ev: SseEvent = { event: this.event || 'message', data: this.data.join('\n'), id: this.lastId };
      this.data = [];
      this.event = '';
      return ev;
    }
    if (line.startsWith(':')) return null; // comment / heartbeat
    const colon = line.indexOf(':');
    let field = line;
    let value = '';
    if (colon >= 0) {
      field = line.slice(0, colon);
      value = line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
    }
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.event = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
        break; // unknown fields are ignored
    }
    return null;
  }
}
