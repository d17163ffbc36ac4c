/** A fresh sealing secret: 48 random bytes in base64, as `openssl rand -base64 48` prints them. */
import { randomBytes } from 'node:crypto';

/** 384 bits: well past the 32 characters the configuration asks for, and HKDF's 256-bit key. */
const SECRET_BYTES = 48;

export function generateSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64');
}
