/**
 * A JSON string literal for `text`, as JSON.stringify writes it. Names and short strings rarely
 * need escaping, and checking that is cheaper than JSON.stringify's general path.
 */
export function quoteJson(text: string): string {
  if (text.length > 64) return JSON.stringify(text);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // Control characters, '"', '\\' and surrogates (lone ones are escaped) take the general path.
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(text);
  }
  return `"${text}"`;
}
