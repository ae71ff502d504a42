// The drain client's HTTP/1.1 response parser: small, so that every byte the
// server sent (or did not send) before a reset is accounted for.

/** Parses one HTTP/1.1 response (content-length or chunked) from a growing buffer. */
export function parseResponse(buffer) {
  const headEnd = buffer.indexOf('\r\n\r\n');
  if (headEnd < 0) return null;
  const head = buffer.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = Number(head[0].split(' ')[1]);
  const headers = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let offset = headEnd + 4;
  if (headers['transfer-encoding'] === 'chunked') {
    for (;;) {
      const lineEnd = buffer.indexOf('\r\n', offset);
      if (lineEnd < 0) return { status, headers, complete: false };
      const size = parseInt(buffer.subarray(offset, lineEnd).toString('latin1'), 16);
      offset = lineEnd + 2 + size + 2;
      if (offset > buffer.length) return { status, headers, complete: false };
      if (size === 0) return { status, headers, complete: true, length: offset };
    }
  }
  const length = Number(headers['content-length'] ?? 0);
  return { status, headers, complete: buffer.length >= offset + length, length: offset + length };
}
