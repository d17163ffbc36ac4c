/**
 * The refresh answer replicas share through Redis (src/server/sealed-answer.ts): it opens
 * only with the refresh token it was sealed for, and only an answer's shape comes out of it.
 */
import { describe, expect, it } from 'vitest';
import type { SharedAnswer } from '../src/server/coalesce.js';
import { asSharedAnswer, openAnswer, sealAnswer } from '../src/server/sealed-answer.js';
import { withSecondToLastFlipped } from './helpers/tampered.js';

const SECRET = 'the refresh token the answer is for';
const ID = 'digest-of-the-request';
const ANSWER: SharedAnswer = {
  status: 429,
  body: '{"error":"rate_limited"}',
  headers: { 'Retry-After': '3' },
};

/** Shapes that JSON can carry and an answer never has. */
const MALFORMED: [string, unknown][] = [
  ['null', null],
  ['an array', [200, '{}', {}]],
  ['a string', '{"status":200}'],
  ['no status', { body: '{}', headers: {} }],
  ['a status as a string', { status: '200', body: '{}', headers: {} }],
  ['a fractional status', { status: 200.5, body: '{}', headers: {} }],
  ['a status below 200', { status: 101, body: '{}', headers: {} }],
  ['a status above 599', { status: 600, body: '{}', headers: {} }],
  ['a null-body status with a body', { status: 204, body: '{}', headers: {} }],
  ['a body that is not a string', { status: 200, body: { access_token: 'x' }, headers: {} }],
  ['no headers', { status: 200, body: '{}' }],
  ['headers as an array', { status: 200, body: '{}', headers: [['Retry-After', '3']] }],
  ['a header value that is not a string', { status: 200, body: '{}', headers: { 'Retry-After': 3 } }],
  ['a header name that is not a token', { status: 200, body: '{}', headers: { 'Retry After': '3' } }],
  ['a header value with a line break', { status: 200, body: '{}', headers: { 'Retry-After': '3\r\nX: y' } }],
];

describe('a shared refresh answer', () => {
  it('opens with the token and id it was sealed for, as it was', async () => {
    const stored = await sealAnswer(ANSWER, SECRET, ID);
    expect(stored).not.toContain('rate_limited');
    expect(await openAnswer(stored, SECRET, ID)).toEqual(ANSWER);
  });

  it('does not open with another token or id, nor when tampered with', async () => {
    const stored = await sealAnswer(ANSWER, SECRET, ID);
    expect(await openAnswer(stored, `${SECRET}!`, ID)).toBeUndefined();
    expect(await openAnswer(stored, SECRET, `${ID}!`)).toBeUndefined();
    const flipped = withSecondToLastFlipped(stored);
    expect(await openAnswer(flipped, SECRET, ID)).toBeUndefined();
    expect(await openAnswer('not.sealed', SECRET, ID)).toBeUndefined();
  });

  it.each(MALFORMED)('that decrypts but holds %s is no answer', async (_, value) => {
    expect(asSharedAnswer(value)).toBeUndefined();
    const stored = await sealAnswer(value as SharedAnswer, SECRET, ID);
    expect(await openAnswer(stored, SECRET, ID)).toBeUndefined();
  });

  it('comes out with exactly its three fields', () => {
    expect(asSharedAnswer({ ...ANSWER, extra: 'dropped' })).toEqual(ANSWER);
  });
});
