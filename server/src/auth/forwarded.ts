import { isIP } from 'node:net';

// RFC 7239 `Forwarded`, read by its grammar. A pattern that looks for "for="
// anywhere finds it inside another parameter's quoted string as well:
// `x="a;for=127.0.0.1";for=10.0.0.5` would name 127.0.0.1. Pure, so a table
// can test it.

const TCHAR = /[!#$%&'*+\-.^_`|~0-9a-z]/i;

export type ForwardedElement = Map<string, string>;

/**
 * The elements of a Forwarded value, left (furthest from us) to right, each a
 * map of lower-cased parameter names to their values (quotes and escapes
 * removed). Null when the value breaks the grammar anywhere, or an element
 * names a parameter twice: a proxy wrote it wrong or a client is playing, and
 * either way none of it can be trusted.
 */
export function parseForwarded(value: string): ForwardedElement[] | null {
  const elements: ForwardedElement[] = [];
  let element: ForwardedElement = new Map();
  let i = 0;
  const skipSpace = () => {
    while (value[i] === ' ' || value[i] === '\t') i++;
  };
  const token = () => {
    const start = i;
    while (i < value.length && TCHAR.test(value[i]!)) i++;
    return value.slice(start, i);
  };
  skipSpace();
  while (i < value.length) {
    if (value[i] === ',' || value[i] === ';') {
      // An empty pair or element is allowed by the list and pair syntax.
    } else {
      const name = token().toLowerCase();
      if (!name || value[i] !== '=') return null;
      i++;
      let pairValue: string;
      if (value[i] === '"') {
        i++;
        pairValue = '';
        for (;;) {
          if (i >= value.length) return null;
          const c = value[i++]!;
          if (c === '"') break;
          if (c === '\\') {
            if (i >= value.length) return null;
            pairValue += value[i++];
          } else {
            pairValue += c;
          }
        }
      } else {
        pairValue = token();
        if (!pairValue) return null;
      }
      if (element.has(name)) return null;
      element.set(name, pairValue);
      skipSpace();
      if (i < value.length && value[i] !== ',' && value[i] !== ';') return null;
    }
    if (value[i] === ',') {
      elements.push(element);
      element = new Map();
    }
    i++;
    skipSpace();
  }
  elements.push(element);
  return elements;
}

/**
 * The IP address in a node identifier (`192.0.2.43`, `"192.0.2.43:4711"`,
 * `"[2001:db8::1]:4711"`), or null for `unknown`, an obfuscated `_name` and
 * anything else that is not an address.
 */
export function forwardedNodeAddress(node: string | undefined): string | null {
  if (node === undefined) return null;
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3}))(?::(\d{1,5}|_[A-Za-z0-9._-]+))?$/.exec(node);
  if (!match) return null;
  const address = match[1] ?? match[2]!;
  return isIP(address) === (match[1] !== undefined ? 6 : 4) ? address.toLowerCase() : null;
}

/** The `for=` address of each element, left to right ('' where an element names none); null when the header does not parse. */
export function forwardedForChain(value: string): string[] | null {
  const elements = parseForwarded(value);
  return elements && elements.map((element) => forwardedNodeAddress(element.get('for')) ?? '');
}
