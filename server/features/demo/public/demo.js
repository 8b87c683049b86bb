// The demo page's own script: what a site does with the `login` event, plus the page's two languages.
const el = document.querySelector('wechat-scan-login');
const result = document.getElementById('result');
const card = document.getElementById('login-card');

const ZH = {
  sandbox: '沙盒',
  console: '控制台',
  eyebrow: '沙盒演示 · 无需微信账号',
  title: '扫描小程序码，用微信登录',
  lead: '访客用微信扫码，在你的小程序里点“确认登录”，本页面在几毫秒内收到签名令牌。无需开放平台网站应用审核，有小程序就够了。',
  step1: '扫码',
  step1b: '用同一网络中的手机扫码，或打开小程序码下方的沙盒手机链接。',
  step2: '核对数字',
  step2b: '手机上显示的两位数字与本页面一致。',
  step3: '在手机上确认',
  step3b: '本页面收到令牌，你的后端用应用的 JWKS 验证它。',
  panel: '试一试',
  loggedInAs: '已登录：',
  phoneLabel: '手机号（微信已验证）：',
  tokenNote: '本页面收到了这个令牌。你的后端用应用的',
  again: '重新登录',
  state: '组件状态',
  foot: '这里的一切都运行在本服务器上：微信模拟器、沙盒手机和登录组件。',
  footConsole: '在控制台创建你自己的应用 →',
};
const EN = {};
document.querySelectorAll('[data-t]').forEach((n) => (EN[n.dataset.t] = n.textContent));

function setLang(lang) {
  const t = lang === 'zh-CN' ? ZH : EN;
  document.documentElement.lang = lang;
  document.querySelectorAll('[data-t]').forEach((n) => (n.textContent = t[n.dataset.t] ?? EN[n.dataset.t]));
  document.querySelectorAll('[data-lang]').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.lang === lang)));
  el.setAttribute('lang', lang);
  document.title = lang === 'zh-CN' ? '微信扫码登录 — wechat-scan-login 演示' : 'Log in with WeChat — wechat-scan-login demo';
  try { localStorage.setItem('wsl-demo-lang', lang); } catch { /* storage may be off */ }
}

function initialLang() {
  const asked = new URLSearchParams(location.search).get('lang');
  let saved = null;
  try { saved = localStorage.getItem('wsl-demo-lang'); } catch { /* storage may be off */ }
  const pick = asked || saved || navigator.language || 'en';
  return /^zh/i.test(pick) ? 'zh-CN' : 'en';
}

document.querySelectorAll('[data-lang]').forEach((b) => b.addEventListener('click', () => setLang(b.dataset.lang)));
setLang(initialLang());

function decodeJwtPayload(token) {
  const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
  const json = decodeURIComponent([...atob(part)].map((c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0')).join(''));
  return JSON.parse(json);
}

// The element may have changed state before this script ran: start from its current one.
customElements.whenDefined('wechat-scan-login').then(() => (document.getElementById('state').textContent = el.state));
el.addEventListener('statechange', (e) => {
  document.getElementById('state').textContent = e.detail.state;
});
el.addEventListener('login', (e) => {
  const claims = decodeJwtPayload(e.detail.token);
  document.getElementById('who').textContent = claims.name || claims.sub;
  document.getElementById('claims').textContent = JSON.stringify(claims, null, 2);
  // Only when the demo app asks for the number (apps:update --phone-number) and the visitor shared it.
  document.getElementById('phone-number').textContent = claims.phone_number || '';
  document.getElementById('phone').hidden = !(claims.phone_number && claims.phone_number_verified);
  document.getElementById('jwks').href = `${claims.iss}/.well-known/jwks.json`;
  result.hidden = false;
  card.hidden = true;
  // The element that had focus is gone: move focus to what replaced it.
  document.getElementById('again').focus();
});
document.getElementById('again').addEventListener('click', () => {
  result.hidden = true;
  card.hidden = false;
  el.refresh();
});
