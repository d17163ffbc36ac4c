/**
 * The demo page's script, served as /app.js. Plain modern JavaScript, no build step: it is exactly what
 * a browser app would write to log in through a swap service. (Kept free of backticks and `${`, so it
 * can live in this template literal unchanged.)
 */
export const APP_JS = String.raw`'use strict';
(() => {
  const config = JSON.parse(document.getElementById('demo-config').textContent);
  const PENDING_KEY = 'token-swap-demo:pending';
  const SESSION_KEY = 'token-swap-demo:session';
  const $ = (id) => document.getElementById(id);
  let countdownTimer;

  class DemoError extends Error {
    constructor(code, description) {
      super(description);
      this.code = code;
    }
  }

  // --- PKCE and state (RFC 7636) ---------------------------------------------------------------
  function base64url(bytes) {
    let binary = '';
    for (const byte of bytes) binary += String.fromCharCode(byte);
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  const randomString = (byteLength) => base64url(crypto.getRandomValues(new Uint8Array(byteLength)));
  async function s256(verifier) {
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
    return base64url(new Uint8Array(digest));
  }

  // --- Storage (sessionStorage: this tab only, gone when it closes) ------------------------------
  function load(key) {
    try {
      return JSON.parse(sessionStorage.getItem(key) || 'null');
    } catch {
      return null;
    }
  }
  const save = (key, value) => sessionStorage.setItem(key, JSON.stringify(value));

  // --- Rendering -----------------------------------------------------------------------------------
  // Only a masked form of a token ever reaches the DOM.
  function mask(token) {
    if (typeof token !== 'string' || token.length === 0) return '(none)';
    if (token.length < 20) return '…';
    return token.slice(0, 6) + '…' + token.slice(-4);
  }

  function showError(code, description) {
    const box = $('error');
    const name = document.createElement('strong');
    name.textContent = code;
    box.replaceChildren(name, description ? ': ' + description : '');
    box.hidden = false;
  }
  function clearError() {
    $('error').replaceChildren();
    $('error').hidden = true;
  }
  function setStatus(text) {
    $('status').textContent = text;
    $('status').hidden = !text;
  }
  function setBusy(busy) {
    for (const id of ['login', 'refresh', 'logout']) $(id).disabled = busy;
  }

  function mmss(ms) {
    const seconds = Math.max(0, Math.floor(ms / 1000));
    const pad = (n) => String(n).padStart(2, '0');
    return pad(Math.floor(seconds / 60)) + ':' + pad(seconds % 60);
  }
  function startCountdown(expiresAt) {
    clearInterval(countdownTimer);
    const tick = () => {
      const left = expiresAt - Date.now();
      $('expires-in').textContent = mmss(left);
      $('expires-in').classList.toggle('expired', left <= 0);
    };
    tick();
    countdownTimer = setInterval(tick, 1000);
  }

  function renderScopes(scope) {
    const scopes = (scope || '').split(' ').filter(Boolean);
    if (scopes.length === 0) {
      const none = document.createElement('span');
      none.className = 'muted';
      none.textContent = 'none';
      $('scopes').replaceChildren(none);
      return;
    }
    $('scopes').replaceChildren(
      ...scopes.map((name) => {
        const chip = document.createElement('span');
        chip.className = 'chip';
        chip.textContent = name;
        return chip;
      }),
    );
  }

  function showSession(session) {
    $('logged-out').hidden = true;
    $('logged-in').hidden = false;
    renderScopes(session.scope);
    $('access-token').textContent = mask(session.access_token);
    $('refresh-token').textContent = mask(session.refresh_token);
    startCountdown(session.expires_at);
  }
  function showLoggedOut() {
    clearInterval(countdownTimer);
    $('logged-in').hidden = true;
    $('logged-out').hidden = false;
    $('profile').replaceChildren();
    $('access-token').textContent = '';
    $('refresh-token').textContent = '';
  }

  function renderProfile(profile) {
    const name = profile.display_name || profile.id;
    const avatar = document.createElement('div');
    avatar.className = 'avatar';
    avatar.setAttribute('aria-hidden', 'true');
    avatar.textContent = (name || '?').charAt(0).toUpperCase();
    const text = document.createElement('div');
    const title = document.createElement('div');
    title.className = 'name';
    title.textContent = name;
    text.append(title);
    for (const line of ['Spotify user id ' + profile.id, profile.email]) {
      if (!line) continue;
      const detail = document.createElement('div');
      detail.className = 'id';
      detail.textContent = line;
      text.append(detail);
    }
    $('profile').replaceChildren(avatar, text);
  }

  // --- Network -------------------------------------------------------------------------------------
  // The service always answers JSON: tokens, or {error, error_description}.
  async function postToService(path, fields) {
    let response;
    try {
      response = await fetch(config.serviceUrl + path, {
        method: 'POST',
        body: new URLSearchParams(fields),
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch {
      throw new DemoError(
        'network_error',
        'Could not reach the swap service at ' + config.serviceUrl + '. Check that it is running and reachable.',
      );
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      if (body && typeof body.error === 'string') {
        throw new DemoError(body.error, typeof body.error_description === 'string' ? body.error_description : '');
      }
      throw new DemoError('http_' + response.status, 'The swap service answered HTTP ' + response.status + ' without a JSON error.');
    }
    if (!body || typeof body.access_token !== 'string' || typeof body.expires_in !== 'number') {
      throw new DemoError('invalid_response', 'The swap service answered without an access token.');
    }
    return body;
  }

  async function loadProfile(accessToken) {
    $('profile').replaceChildren('Loading your profile…');
    let response;
    try {
      response = await fetch(config.accountsUrl + '/v1/me', {
        headers: { Authorization: 'Bearer ' + accessToken },
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch {
      $('profile').replaceChildren('Profile unavailable');
      throw new DemoError('network_error', 'Could not reach ' + config.accountsUrl + '/v1/me for the profile.');
    }
    const body = await response.json().catch(() => null);
    if (!response.ok || !body || typeof body.id !== 'string') {
      $('profile').replaceChildren('Profile unavailable');
      // The Web API's error shape: {"error": {"status", "message"}}.
      const message = body && body.error && body.error.message;
      throw new DemoError('profile_error', message || 'GET /v1/me answered HTTP ' + response.status + '.');
    }
    renderProfile(body);
  }

  function sessionFrom(tokens, previous) {
    return {
      access_token: tokens.access_token,
      // Spotify may not rotate the refresh token: without a new one, keep using the old one.
      refresh_token: tokens.refresh_token || (previous && previous.refresh_token) || '',
      scope: typeof tokens.scope === 'string' ? tokens.scope : (previous && previous.scope) || '',
      expires_at: Date.now() + tokens.expires_in * 1000,
    };
  }

  // --- Actions ---------------------------------------------------------------------------------------
  async function run(action) {
    clearError();
    setBusy(true);
    try {
      await action();
    } catch (error) {
      if (error instanceof DemoError) showError(error.code, error.message);
      else showError('unexpected_error', String(error));
    } finally {
      setStatus('');
      setBusy(false);
    }
  }

  async function login() {
    if (!window.isSecureContext || !crypto.subtle) {
      throw new DemoError('insecure_context', 'PKCE needs WebCrypto, which browsers offer only over https or on 127.0.0.1.');
    }
    const state = randomString(16);
    const verifier = randomString(32);
    save(PENDING_KEY, { state, verifier });
    const url = new URL(config.accountsUrl + '/authorize');
    url.search = new URLSearchParams({
      client_id: config.clientId,
      response_type: 'code',
      redirect_uri: config.redirectUri,
      scope: config.scopes.join(' '),
      state,
      code_challenge_method: 'S256',
      code_challenge: await s256(verifier),
    }).toString();
    setStatus('Going to Spotify Accounts…');
    location.assign(url.href);
  }

  async function handleCallback(params) {
    const pending = load(PENDING_KEY);
    sessionStorage.removeItem(PENDING_KEY);
    // A code is single use and must not linger: out of the address bar and history before anything else.
    history.replaceState(null, '', config.homePath);
    showLoggedOut();
    const error = params.get('error');
    if (error === 'access_denied') {
      throw new DemoError('access_denied', 'Login cancelled. You chose Cancel on the consent page, so the app got no code.');
    }
    if (error) {
      throw new DemoError(error, params.get('error_description') || 'Spotify Accounts refused the login.');
    }
    if (!pending || typeof pending.state !== 'string' || params.get('state') !== pending.state) {
      throw new DemoError(
        'state_mismatch',
        'This callback does not answer a login started in this tab (its state differs), so its code was not used. Log in again.',
      );
    }
    setStatus('Swapping the code for tokens at ' + config.serviceUrl + '/swap…');
    const tokens = await postToService('/swap', {
      code: params.get('code') || '',
      redirect_uri: config.redirectUri,
      code_verifier: pending.verifier,
    });
    const session = sessionFrom(tokens, null);
    save(SESSION_KEY, session);
    showSession(session);
    await loadProfile(session.access_token);
  }

  async function refresh() {
    const session = load(SESSION_KEY);
    if (!session || !session.refresh_token) {
      showLoggedOut();
      throw new DemoError('not_logged_in', 'There is no refresh token in this tab. Log in again.');
    }
    setStatus('Refreshing at ' + config.serviceUrl + '/refresh…');
    const next = sessionFrom(await postToService('/refresh', { refresh_token: session.refresh_token }), session);
    save(SESSION_KEY, next);
    showSession(next);
    await loadProfile(next.access_token);
  }

  function logout() {
    sessionStorage.removeItem(SESSION_KEY);
    sessionStorage.removeItem(PENDING_KEY);
    clearError();
    showLoggedOut();
  }

  $('login').addEventListener('click', () => run(login));
  $('refresh').addEventListener('click', () => run(refresh));
  $('logout').addEventListener('click', logout);

  const params = new URLSearchParams(location.search);
  if (params.has('code') || params.has('error')) {
    run(() => handleCallback(params));
  } else {
    const session = load(SESSION_KEY);
    if (session && session.access_token) {
      showSession(session);
      run(() => loadProfile(session.access_token));
    } else {
      showLoggedOut();
    }
  }
})();
`;
