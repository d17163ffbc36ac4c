/**
 * What may reach a terminal. A swap service, a Web API or a browser redirect can put anything in the
 * strings the CLI prints (an error description, a scope, a display name, a URL), and a terminal acts on
 * control sequences: it moves the cursor, rewrites lines, sets the window title, makes links, and some
 * answer queries by typing into the shell. The token parser already refuses control characters in
 * tokens, scopes and error texts (src/shared/token-response.ts); this is the one rule for everything a
 * command writes, applied on the way out (io.ts), so that no path can forget it.
 */
import { stripVTControlCharacters } from 'node:util';

/**
 * What is left once the escape sequences are gone: the C0 controls but the line feed (a carriage
 * return or a backspace rewrites what was printed), DEL, the C1 controls (U+009B is a CSI to some
 * terminals), and the Unicode controls that reorder or break what is shown: bidirectional
 * embeddings, overrides and isolates, and the line and paragraph separators.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const UNSAFE = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `text` as a terminal shows it and does nothing else with it; line feeds are kept. */
export function terminalText(text: string): string {
  // Whole sequences first, so that `ESC [ 2 J` goes entirely rather than leaving `[2J` behind.
  return stripVTControlCharacters(text).replace(UNSAFE, '');
}

/** A string from the network that is printed inside a line: its line feeds go too. */
export function oneLine(text: string): string {
  return terminalText(text).replace(/\s*\n\s*/g, ' ');
}
