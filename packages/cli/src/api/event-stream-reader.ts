/** One message of a `text/event-stream`. */
export interface ServerSentEvent {
  /** The last `id:` seen so far (ids carry over to later events, as the spec says). */
  id: string | undefined;
  event: string;
  data: string;
}

/**
 * Parses a `text/event-stream` body (HTML Living Standard, "server-sent events": lines end in CRLF, LF or CR;
 * `data:` lines join with LF; a blank line dispatches; `:` lines are comments such as keep-alive pings).
 */
export async function* readEventStream(body: AsyncIterable<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let id: string | undefined;
  let event = '';
  let data: string[] = [];
  const lines = function* (final: boolean): Generator<string> {
    for (;;) {
      const match = /\r\n|\n|\r/.exec(buffer);
      // A lone CR at the end may be the first half of a CRLF split across chunks: wait for more.
      if (!match || (match[0] === '\r' && match.index === buffer.length - 1 && !final)) return;
      const line = buffer.slice(0, match.index);
      buffer = buffer.slice(match.index + match[0].length);
      yield line;
    }
  };
  const fields = function* (final: boolean): Generator<ServerSentEvent> {
    for (const line of lines(final)) {
      if (line === '') {
        if (data.length > 0) yield { id, event: event || 'message', data: data.join('\n') };
        data = [];
        event = '';
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const name = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (name === 'data') data.push(value);
      else if (name === 'event') event = value;
      else if (name === 'id' && !value.includes('\0')) id = value;
    }
  };
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    yield* fields(false);
  }
  buffer += decoder.decode();
  yield* fields(true);
}
