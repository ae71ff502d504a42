/**
 * Decodes one entry of journald's native protocol, written from the protocol's
 * description rather than from our encoder: a field is `NAME=value\n`, or
 * `NAME\n` + a 64-bit little-endian length + that many bytes + `\n`. The name
 * ends at the first `=` or `\n`, whichever comes first. Throws on anything else.
 */
export function decodeJournalEntry(data: Buffer): Array<[string, Buffer]> {
  const fields: Array<[string, Buffer]> = [];
  let at = 0;
  while (at < data.length) {
    let end = at;
    while (end < data.length && data[end] !== 0x3d && data[end] !== 0x0a) end++;
    if (end === data.length) throw new Error(`Truncated field name at byte ${at}.`);
    const name = data.toString('latin1', at, end);
    if (data[end] === 0x3d) {
      const newline = data.indexOf(0x0a, end + 1);
      if (newline < 0) throw new Error(`Field ${name} has no terminating newline.`);
      fields.push([name, data.subarray(end + 1, newline)]);
      at = newline + 1;
      continue;
    }
    if (end + 9 > data.length) throw new Error(`Field ${name} is cut inside its length.`);
    const length = data.readBigUInt64LE(end + 1);
    const start = end + 9;
    if (BigInt(start) + length + 1n > BigInt(data.length)) throw new Error(`Field ${name} claims ${length} bytes, more than the entry holds.`);
    const stop = start + Number(length);
    if (data[stop] !== 0x0a) throw new Error(`Field ${name} is not followed by a newline.`);
    fields.push([name, data.subarray(start, stop)]);
    at = stop + 1;
  }
  return fields;
}
