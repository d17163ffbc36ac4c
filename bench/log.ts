/** Progress goes to stderr, so that stdout holds the results alone. */
export const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
