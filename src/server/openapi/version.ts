/**
 * The package version (package.json's `version`), as the document's `info.version`: clients see the
 * version of the service they talk to. Written by `npm run openapi`, which reads package.json, since
 * the core reads no files; test/openapi.test.ts fails when it falls behind.
 */
export const PACKAGE_VERSION = '0.1.0';
