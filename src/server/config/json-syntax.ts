/**
 * Where a JSON text stops being JSON, for an error message that names the place (line and column) and
 * never a piece of the text: the apps file holds secrets, and V8's own message quotes the text around
 * the error ("Unexpected token 'S', ..."clientSecret": SUPERSECRET..."). Used only once JSON.parse has
 * failed, to describe the failure.
 */

export interface JsonSyntaxError {
  line: number;
  column: number;
  /** What was expected or found, in words that quote nothing from the text. */
  problem: string;
}

class Stop {
  constructor(
    readonly offset: number,
    readonly problem: string,
  ) {}
}

const VALUE_EXPECTED = 'unexpected character (a value is expected here)';

/** A strict recursive-descent pass over JSON (RFC 8259) that only finds the first error. */
class Scanner {
  #at = 0;

  constructor(readonly text: string) {}

  run(): void {
    this.#value();
    this.#space();
    if (this.#at < this.text.length) this.#fail('unexpected text after the end of the JSON value');
  }

  #fail(problem: string): never {
    throw new Stop(this.#at, this.#at >= this.text.length ? 'the text ends too early' : problem);
  }

  #char(): string | undefined {
    return this.text[this.#at];
  }

  #space(): void {
    while (/[ \t\r\n]/.test(this.#char() ?? '')) this.#at++;
  }

  #value(): void {
    this.#space();
    const char = this.#char();
    if (char === '{') this.#list('}', () => this.#member());
    else if (char === '[') this.#list(']', () => this.#value());
    else if (char === '"') this.#string();
    else if (char !== undefined && 'tfn'.includes(char)) this.#literal();
    else this.#number();
  }

  #member(): void {
    this.#space();
    if (this.#char() !== '"') this.#fail('a double-quoted property name is expected here');
    this.#string();
    this.#space();
    if (this.#char() !== ':') this.#fail('a colon is expected here');
    this.#at++;
    this.#value();
  }

  #list(close: string, item: () => void): void {
    this.#at++;
    this.#space();
    if (this.#char() === close) {
      this.#at++;
      return;
    }
    for (;;) {
      item();
      this.#space();
      const char = this.#char();
      this.#at++;
      if (char === close) return;
      if (char !== ',') {
        this.#at--;
        this.#fail(`a comma or "${close}" is expected here`);
      }
    }
  }

  #literal(): void {
    const word = ['true', 'false', 'null'].find((w) => this.text.startsWith(w, this.#at));
    if (word === undefined) this.#fail(VALUE_EXPECTED);
    this.#at += word.length;
  }

  #number(): void {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.#at));
    if (!match) this.#fail(VALUE_EXPECTED);
    this.#at += match[0].length;
  }

  #string(): void {
    this.#at++;
    for (let char = this.#char(); char !== '"'; char = this.#char()) {
      if (char === undefined) this.#fail('unterminated string');
      if (char < ' ') this.#fail('a control character inside a string');
      this.#at += char === '\\' ? this.#escapeLength() : 1;
    }
    this.#at++;
  }

  /** The length of the escape at the cursor (a backslash), or a failure. */
  #escapeLength(): number {
    const next = this.text[this.#at + 1] ?? '';
    if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(this.text.slice(this.#at + 2, this.#at + 6))) return 6;
    if (next !== '' && '"\\/bfnrt'.includes(next)) return 2;
    return this.#fail('an invalid escape in a string');
  }
}

/** The first syntax error of `text`, or undefined when it is valid JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  try {
    new Scanner(text).run();
    return undefined;
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    const before = text.slice(0, error.offset).split('\n');
    return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1, problem: error.problem };
  }
}
