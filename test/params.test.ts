/**
 * Reading JSON parameters as strictly as form ones: the keys of a JSON object as written, duplicates
 * included, checked against JSON.parse on random documents.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keysAsWritten } from '../src/server/endpoints/params.js';

describe('keysAsWritten', () => {
  it('finds the keys JSON.parse finds, in the same order, for any JSON object', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 12 }),
        fc.boolean(),
        (object, pretty) => {
          const text = JSON.stringify(object, null, pretty ? 2 : undefined);
          expect(keysAsWritten(text)).toEqual(Object.keys(JSON.parse(text) as object));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps a repeated key, which JSON.parse silently drops', () => {
    expect(keysAsWritten('{"code":"a", "x": {"code": [1, "}", {"code": 2}]}, "code" : "b"}')).toEqual([
      'code',
      'x',
      'code',
    ]);
    expect(keysAsWritten('{"c\\u006fde":"a","code":"b"}')).toEqual(['code', 'code']);
  });
});
