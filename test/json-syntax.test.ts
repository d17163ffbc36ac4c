/**
 * The JSON syntax locator of the apps file: it agrees with JSON.parse on what is JSON, and names the
 * place of an error without quoting the text (a secret may sit right there).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findJsonSyntaxError } from '../src/server/config/json-syntax.js';

const isJson = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

describe('findJsonSyntaxError', () => {
  it('finds no error in any JSON text', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (value, pretty) => {
        expect(findJsonSyntaxError(JSON.stringify(value, null, pretty ? 2 : undefined))).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });

  it('finds an error exactly where JSON.parse does not accept the text', () => {
    const mutated = fc
      .tuple(fc.jsonValue(), fc.nat(), fc.constantFrom('', ',', '"', '}', ']', 'x', '\\', '\n', ':', '0'))
      .map(([value, at, insert]) => {
        const text = JSON.stringify(value);
        const i = at % (text.length + 1);
        return text.slice(0, i) + insert + text.slice(i);
      });
    fc.assert(
      fc.property(mutated, (text) => {
        expect(findJsonSyntaxError(text) === undefined).toBe(isJson(text));
      }),
      { numRuns: 2_000 },
    );
  });

  it('says where, line and column, and quotes nothing', () => {
    const text = '{\n  "apps": {\n    "web": {\n      "clientSecret": SUPERSECRET-0123\n    }\n  }\n}\n';
    const found = findJsonSyntaxError(text);
    expect(found).toEqual({
      line: 4,
      column: 23,
      problem: 'unexpected character (a value is expected here)',
    });
    expect(JSON.stringify(found)).not.toContain('SUPERSECRET');
  });
});
