/**
 * Reading parameters: form bodies as URLSearchParams reads them (the fast path for bodies with nothing
 * to decode included), and JSON as strictly as forms, the keys of an object as written, duplicates
 * included, checked against URLSearchParams and JSON.parse on random input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formParams, keysAsWritten } from '../src/server/endpoints/params.js';

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

/** Every name and value of a form in order, as URLSearchParams reads them. */
function reference(text: string): [string, unknown[]][] {
  const pairs = new Map<string, unknown[]>();
  for (const [name, value] of new URLSearchParams(text)) pairs.set(name, [...(pairs.get(name) ?? []), value]);
  return [...pairs];
}

describe('formParams', () => {
  // Texts made of the characters that matter to the parser, so that separators, escapes and
  // surrogates meet often; and any text at all.
  const formText = fc.oneof(
    fc
      .array(fc.constantFrom(...'&=%+20aB-.', '\u00e9', '\ud83c', '\udfb5'), { maxLength: 40 })
      .map((chars) => chars.join('')),
    fc.string({ unit: 'binary', maxLength: 60 }),
  );

  it('reads every form text as URLSearchParams does, in the fast path and out of it', () => {
    fc.assert(
      fc.property(formText, (text) => {
        expect([...formParams(text)]).toEqual(reference(text));
      }),
      { numRuns: 3_000 },
    );
  });

  it('keeps repeated names, empty values and names without "=" as URLSearchParams does', () => {
    const cases = [
      '',
      '&&',
      '=',
      'a',
      'a=',
      '=b',
      'a=1&a=2',
      'a==b',
      'refresh_token=sts2.a-_&&x',
      '\ud800=1',
    ];
    for (const text of cases) expect([...formParams(text)]).toEqual(reference(text));
    expect(formParams('a=1&b&a=2&=c').get('a')).toEqual(['1', '2']);
  });
});
