/** Refresh-token sealing: the format (format.ts) and its WebCrypto implementation (webcrypto.ts). */
export type { CipherKey, Grant, Opened, SealBinding, Sealer, SealerFactory } from './format.js';
export {
  additionalData,
  concat,
  IV_BYTES,
  isSealedToken,
  isSeconds,
  KEY_ID_INFO,
  KEY_INFO,
  KID_BYTES,
  newFamilyId,
  plaintextObject,
  SALT,
  SEALED_PREFIX,
  SEALED_PREFIX_V1,
  sealerFrom,
  TAG_BYTES,
} from './format.js';
export { createSealer } from './webcrypto.js';
