// Request-Id values (docs/contract.md Part B §5.4: `req_` and 14 base62 characters), one per request.
// The bytes come from the CSPRNG like every other id (domain/ids.ts; docs/security-model.md CD-01), but drawn from a pool
// filled 4 KiB at a time: one randomBytes call costs as much for 28 bytes as for 4 KiB (tens of
// microseconds on a VM), which made it a few per cent of a /v1 read (issue 8). A request id is
// public, so holding its bytes in memory ahead of use gives nothing away.
import { randomFillSync } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const pool = Buffer.allocUnsafe(4096);
let next = pool.length;

export function newRequestId(): string {
  let id = 'req_';
  while (id.length < 18) {
    if (next === pool.length) {
      randomFillSync(pool);
      next = 0;
    }
    const b = pool.readUInt8(next++);
    // Rejection sampling: 248 = 4 × 62, so every character is equally likely.
    if (b < 248) id += BASE62.charAt(b % 62);
  }
  return id;
}
