#!/usr/bin/env node
// A stand-in for a person with a browser, used as $BROWSER by tests: it opens the authorize URL it is
// given, clicks Agree on the sandbox consent page (posts the page's form with decision=agree), and
// follows the redirect to the app's loopback catcher, as a browser would.
const [url] = process.argv.slice(2);
const authorize = new URL(url);
const page = await fetch(authorize);
const html = await page.text();
if (!html.includes('id="agree"')) {
  console.error(`no consent page at ${url}: ${page.status}`);
  process.exit(1);
}
const decided = await fetch(authorize.origin + authorize.pathname, {
  method: 'POST',
  body: new URLSearchParams([...authorize.searchParams, ['decision', 'agree']]),
  redirect: 'manual',
});
const location = decided.headers.get('location');
if (!location) {
  console.error(`consent did not redirect: ${decided.status}`);
  process.exit(1);
}
await fetch(location);
