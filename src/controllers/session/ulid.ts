/**
 * ULIDs (Snapshot.spec.snapshotID, SPEC §3.4): 48 bits of milliseconds then 80 random bits, in
 * Crockford's base32 (26 characters), so IDs sort by creation time. Pure: the caller passes the
 * time and the randomness.
 */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const MAX_TIME = 2 ** 48 - 1;

/**
 * The ULID of `timeMs` (0 … 2^48−1, whole milliseconds) and 10 random bytes. Throws a RangeError
 * naming the argument when either is out of range.
 */
export function ulid(timeMs: number, random: Uint8Array): string {
  if (!Number.isInteger(timeMs) || timeMs < 0 || timeMs > MAX_TIME) throw new RangeError(`ulid: timeMs must be an integer in [0, 2^48), got ${timeMs}`);
  if (random.length !== 10) throw new RangeError(`ulid: random must be 10 bytes, got ${random.length}`);
  let time = '';
  let rest = timeMs;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[rest % 32] + time;
    rest = Math.floor(rest / 32);
  }
  // 80 bits = 16 groups of 5 bits, most significant first.
  let bits = 0n;
  for (const byte of random) bits = (bits << 8n) | BigInt(byte);
  let entropy = '';
  for (let i = 0; i < 16; i++) {
    entropy = CROCKFORD[Number(bits & 31n)] + entropy;
    bits >>= 5n;
  }
  return time + entropy;
}
