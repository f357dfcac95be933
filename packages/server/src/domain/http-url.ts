// One rule for the http(s) URLs a platform or an account holder gives (a business website, an
// Account Link's refresh_url and return_url): absolute, http or https, not longer than `maxLength`.
export function isHttpUrl(value: string, maxLength = 2048): boolean {
  if (value.length > maxLength) return false;
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}
