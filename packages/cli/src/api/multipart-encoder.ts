import { randomBytes } from 'node:crypto';

/** A text field of a multipart/form-data body. */
export interface TextPart {
  name: string;
  value: string;
}

/** A file part: its bytes are pulled from `content` only when the encoder gets to them. */
export interface FilePart {
  name: string;
  fileName: string;
  contentType?: string;
  /** The exact number of bytes `content` yields; the body's Content-Length is computed from it. */
  size: number;
  content: AsyncIterable<Uint8Array>;
}

export type MultipartPart = TextPart | FilePart;

/** A streaming multipart/form-data body. */
export interface MultipartBody {
  /** `multipart/form-data; boundary=…` */
  contentType: string;
  /** Total bytes the stream yields. */
  length: number;
  /** The encoded body, in order; file parts are streamed through, never buffered. */
  stream(): AsyncGenerator<Uint8Array>;
}

const CRLF = '\r\n';
const encoder = new TextEncoder();

/**
 * Encodes form fields and files as multipart/form-data (RFC 7578) without holding any file in memory: a file
 * part's chunks are passed through as they are read. Parts go out in the order given, which matters to servers
 * that read text fields before the file (Aloft's upload needs `version` before `file`).
 */
export function encodeMultipart(parts: readonly MultipartPart[], boundary = newBoundary()): MultipartBody {
  if (!/^[0-9A-Za-z'()+_,./:=?-]{1,70}$/.test(boundary))
    throw new Error(`invalid multipart boundary "${boundary}"`);
  const heads = parts.map((part, i) =>
    encoder.encode(`${i === 0 ? '' : CRLF}--${boundary}${CRLF}${partHeaders(part)}${CRLF}`),
  );
  const values = parts.map((part) => ('value' in part ? encoder.encode(part.value) : undefined));
  const tail = encoder.encode(`${CRLF}--${boundary}--${CRLF}`);
  let length = tail.byteLength;
  parts.forEach((part, i) => {
    length += (heads[i]?.byteLength ?? 0) + ('value' in part ? (values[i]?.byteLength ?? 0) : part.size);
  });

  async function* stream(): AsyncGenerator<Uint8Array> {
    for (const [i, part] of parts.entries()) {
      yield heads[i]!;
      if ('value' in part) {
        yield values[i]!;
        continue;
      }
      let sent = 0;
      for await (const chunk of part.content) {
        sent += chunk.byteLength;
        // The Content-Length was promised up front: a file that grows mid-upload would corrupt the body.
        if (sent > part.size) throw new Error(`${part.fileName} grew while being uploaded`);
        yield chunk;
      }
      if (sent !== part.size) throw new Error(`${part.fileName} shrank while being uploaded`);
    }
    yield tail;
  }

  return { contentType: `multipart/form-data; boundary=${boundary}`, length, stream };
}

function partHeaders(part: MultipartPart): string {
  if ('value' in part) return `Content-Disposition: form-data; name="${escapeQuoted(part.name)}"${CRLF}`;
  return (
    `Content-Disposition: form-data; name="${escapeQuoted(part.name)}"; filename="${escapeQuoted(part.fileName)}"${CRLF}` +
    `Content-Type: ${part.contentType ?? 'application/octet-stream'}${CRLF}`
  );
}

/** Percent-encodes `"`, CR and LF in a quoted header parameter, as browsers do (HTML form submission). */
function escapeQuoted(text: string): string {
  return text.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function newBoundary(): string {
  return `----aloft-${randomBytes(16).toString('hex')}`;
}
