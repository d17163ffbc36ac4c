/**
 * The answers Node or the adapter would give before the app runs, made the JSON every other answer
 * is, and reported so that they are logged and counted too: a request Node cannot parse (malformed,
 * headers over 16 KiB, too slow to arrive), an `Expect` other than 100-continue, and a request the
 * adapter cannot turn into a Web `Request` (no `Host` on HTTP/1.1, a `Host` that is not a host,
 * `OPTIONS *`, a target that is not a path).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { RequestError } from '@hono/node-server';
import { JSON_HEADERS } from '../../server/answer.js';
import { errorResponse, invalidRequest, OAuthError, serverError } from '../../server/errors.js';

/** An answer given outside the app: its status, and why, for the log and the metrics. */
export interface ProtocolAnswer {
  status: number;
  reason: 'unparsable' | 'headers_too_large' | 'request_timeout' | 'expectation' | 'invalid_request';
}

export type OnProtocolAnswer = (answer: ProtocolAnswer) => void;

/** What Node's own answer to a request it cannot parse would be, as the JSON every other error is. */
function clientErrorAnswer(code: string | undefined): [ProtocolAnswer, string, string] {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return [
        { status: 431, reason: 'headers_too_large' },
        'Request Header Fields Too Large',
        'The request headers exceed 16 KiB',
      ];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [
        { status: 408, reason: 'request_timeout' },
        'Request Timeout',
        'The request did not arrive in time',
      ];
    default:
      return [{ status: 400, reason: 'unparsable' }, 'Bad Request', 'The request is not valid HTTP/1.1'];
  }
}

function writeJson(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, {
    ...JSON_HEADERS,
    'Content-Length': Buffer.byteLength(body),
    Connection: 'close',
  });
  response.end(body);
}

/** Wires the answers Node gives itself (clientError, checkExpectation) to JSON, and reports them. */
export function answerProtocolErrorsAsJson(server: Server, report: OnProtocolAnswer): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // As Node's default handler: nothing for a peer that reset or half-closed, and nothing written into
    // an answer already on its way on this connection (`_httpMessage` is the response in flight).
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const [answer, reasonPhrase, description] = clientErrorAnswer(error.code);
    report(answer);
    const body = JSON.stringify(invalidRequest(description).toJSON());
    const headers = Object.entries(JSON_HEADERS)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    socket.end(
      `HTTP/1.1 ${answer.status} ${reasonPhrase}\r\n${headers}` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  // Node answers an Expect it does not know with a bodiless 417 unless someone listens for this.
  server.on('checkExpectation', (_request: IncomingMessage, response: ServerResponse) => {
    report({ status: 417, reason: 'expectation' });
    const error = new OAuthError(417, 'invalid_request', 'Only Expect: 100-continue is supported');
    writeJson(response, 417, JSON.stringify(error.toJSON()));
  });
}

/**
 * The adapter's error handler: a request it could not turn into a Web Request is a 400; anything else
 * that escaped the app (which catches its own errors) is a generic 500. Never a body-less answer.
 */
export function adapterErrorHandler(report: OnProtocolAnswer): (error: unknown) => Response {
  return (error) => {
    if (error instanceof RequestError) {
      report({ status: 400, reason: 'invalid_request' });
      // Whatever else the client sends on this connection is suspect: end it with this answer.
      return errorResponse(
        invalidRequest('The request target or the Host header is not valid', { Connection: 'close' }),
      );
    }
    return errorResponse(serverError());
  };
}

/**
 * RFC 9112 §3.2: an HTTP/1.1 request without Host is a 400. Node checks it itself and answers with an
 * empty body; the server turns that check off (`requireHostHeader: false`) and makes it here instead.
 */
export function missingHost(incoming: IncomingMessage, report: OnProtocolAnswer): Response | undefined {
  if (incoming.httpVersion !== '1.1' || incoming.headers.host !== undefined) return undefined;
  report({ status: 400, reason: 'invalid_request' });
  return errorResponse(invalidRequest('An HTTP/1.1 request needs a Host header', { Connection: 'close' }));
}
