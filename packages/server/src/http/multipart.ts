// multipart/form-data made of plain fields, accepted wherever a form body is (docs/contract.md Part B §0;
// docs/testing-platform-api.md "Request bodies"): Stripe's own Connect guide deauthorizes with
// Node `request`'s `formData`, which sends multipart. The fields are re-encoded and go through the
// very parser urlencoded bodies use (parse.ts parseForm), so `metadata[a]` means the same in both.
// A file part, or a part that is not text, is refused (docs/security-model.md BI-39).
import busboy from 'busboy';
import { malformedEncoding, parseForm } from './parse.ts';

const PARAMETER_LIMIT = 1000;

/** A multipart body we refuse: answered 400 invalid_request in the endpoint's envelope. */
export function refusedMultipart(reason: string): Error {
  return Object.assign(new Error(reason), { code: 'CONNECTD_MULTIPART_REFUSED', statusCode: 400 });
}

/** The body (already bounded by the form body limit) parsed into the same parameters as a form. */
export function parseMultipart(contentType: string, body: Buffer): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: { 'content-type': contentType },
        defCharset: 'utf8',
        defParamCharset: 'utf8',
        // One more than qs allows: going over is then the same "too many parameters" error.
        limits: { fields: PARAMETER_LIMIT + 1, parts: PARAMETER_LIMIT + 1, files: 0, fieldNameSize: 1024, fieldSize: body.length + 1 },
      });
    } catch {
      reject(refusedMultipart('malformed multipart body (no boundary)'));
      return;
    }
    const pairs: string[] = [];
    let failed: Error | null = null;
    const fail = (err: Error) => {
      failed ??= err;
    };
    parser.on('field', (name, value: string | undefined, info) => {
      // busboy hands over a value it could not decode (a part charset it does not know) as
      // undefined: refused like any body that is not UTF-8 (docs/security-model.md BI-40), never a TypeError.
      if (info.mimeType !== 'text/plain') fail(refusedMultipart('non-text part'));
      else if (typeof value !== 'string') fail(malformedEncoding());
      else if (info.nameTruncated || info.valueTruncated) fail(refusedMultipart('truncated part'));
      else if (!name) fail(refusedMultipart('part without a name'));
      // U+FFFD after decoding: the part's bytes were not UTF-8, refused as in a urlencoded body (docs/security-model.md BI-40).
      else if (name.includes('\uFFFD') || value.includes('\uFFFD')) fail(malformedEncoding());
      else pairs.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
    });
    parser.on('file', (_name, stream) => {
      stream.resume();
      fail(refusedMultipart('file part'));
    });
    parser.on('filesLimit', () => fail(refusedMultipart('file part')));
    const tooMany = () => fail(Object.assign(new RangeError('Parameter limit exceeded'), { statusCode: 400 }));
    parser.on('fieldsLimit', tooMany);
    parser.on('partsLimit', tooMany);
    parser.on('error', () => {
      fail(refusedMultipart('malformed multipart body'));
      resolveOrReject();
    });
    let settled = false;
    const resolveOrReject = () => {
      if (settled) return;
      settled = true;
      if (failed) return reject(failed);
      try {
        resolve(parseForm(pairs.join('&')));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    };
    parser.on('close', resolveOrReject);
    parser.end(body);
  });
}
