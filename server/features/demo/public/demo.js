// The demo page's own script: shows what a site does with the `login` event.
const el = document.querySelector('wechat-scan-login');
const result = document.getElementById('result');
const card = document.getElementById('login-card');

function decodeJwtPayload(token) {
  const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
  const json = decodeURIComponent([...atob(part)].map((c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0')).join(''));
  return JSON.parse(json);
}

const phoneLink = document.getElementById('phone-link');

el.addEventListener('statechange', (e) => {
  document.getElementById('state').textContent = e.detail.state;
  // The sandbox phone page plays the mini-program for the code on screen (its scene is the session id).
  phoneLink.hidden = e.detail.state !== 'ready' || !el.sessionId;
  if (!phoneLink.hidden) document.getElementById('phone-href').href = `/sandbox/phone?scene=${encodeURIComponent(el.sessionId)}`;
});
el.addEventListener('login', (e) => {
  const claims = decodeJwtPayload(e.detail.token);
  document.getElementById('who').textContent = claims.name || claims.sub;
  document.getElementById('claims').textContent = JSON.stringify(claims, null, 2);
  document.getElementById('jwks').href = `${claims.iss}/.well-known/jwks.json`;
  result.hidden = false;
  card.hidden = true;
});
document.getElementById('again').addEventListener('click', () => {
  result.hidden = true;
  card.hidden = false;
  el.refresh();
});
