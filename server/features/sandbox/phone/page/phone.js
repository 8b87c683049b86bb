/*
 * The sandbox phone: the mini-program confirm page's web twin. It runs the very same flow.js
 * and i18n.js (served from miniprogram/pages/scan-login/) with a browser `wx` whose login
 * asks the WeChat simulator for a code, so test-mode users see exactly what visitors see.
 * No inline script or style anywhere: the page runs under a strict CSP.
 */
(function () {
  'use strict';
  var ScanLogin = window.ScanLogin;
  var OPENID_KEY = 'wsl-sandbox-openid';
  var params = new URLSearchParams(location.search);
  // A mini-program code opens the page with ?scene=…; a link-style code as WeChat would: ?q=…&scancode_time=….
  var options = {};
  ['scene', 'q', 'scancode_time'].forEach(function (k) { if (params.get(k) != null) options[k] = params.get(k); });
  var scene = ScanLogin.flow.readOptions(options, Date.now()).scene || options.scene;
  var closed = false;

  /** One browser is one sandbox WeChat user: a random openid kept in localStorage. */
  function sandboxOpenid() {
    var id = null;
    try { id = localStorage.getItem(OPENID_KEY); } catch (e) { /* storage may be off */ }
    if (id && /^[A-Za-z0-9_-]{6,64}$/.test(id)) return id;
    var alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';
    var bytes = new Uint8Array(27);
    crypto.getRandomValues(bytes);
    id = 'o';
    for (var i = 0; i < bytes.length; i++) id += alphabet[bytes[i] % 64];
    try { localStorage.setItem(OPENID_KEY, id); } catch (e) { /* one page view then */ }
    return id;
  }

  function readBody(res) {
    return res.text().then(function (text) {
      var data = text;
      try { data = JSON.parse(text); } catch (e) { /* keep the text, as wx.request does */ }
      return { statusCode: res.status, data: data, header: {} };
    });
  }

  var files = {}; // object URL -> File, so uploadFile can find what "chooseAvatar" picked

  var wx = {
    getSystemInfoSync: function () {
      return { language: params.get('lang') || navigator.language || 'en', platform: 'sandbox' };
    },
    canIUse: function (what) {
      return what === 'button.open-type.chooseAvatar' || what === 'input.type.nickname';
    },
    login: function (o) {
      fetch('/sandbox/phone/code', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ scene: ScanLogin.flow.decodeScene(scene) || String(scene), openid: sandboxOpenid() }),
      }).then(readBody).then(function (r) {
        if (r.statusCode === 200 && r.data && r.data.code) o.success && o.success({ code: r.data.code, errMsg: 'login:ok' });
        else o.fail && o.fail({ errMsg: 'login:fail ' + r.statusCode, code: r.data && r.data.error ? r.data.error.code : undefined });
      }, function () {
        o.fail && o.fail({ errMsg: 'login:fail network' });
      });
    },
    request: function (o) {
      fetch(o.url, { method: o.method || 'GET', headers: o.header || {}, body: o.data == null ? undefined : JSON.stringify(o.data) })
        .then(readBody)
        .then(function (r) { o.success && o.success(r); }, function () { o.fail && o.fail({ errMsg: 'request:fail' }); });
    },
    uploadFile: function (o) {
      var file = files[o.filePath];
      if (!file) { o.fail && o.fail({ errMsg: 'uploadFile:fail file not found' }); return; }
      var form = new FormData();
      Object.keys(o.formData || {}).forEach(function (k) { form.append(k, o.formData[k]); });
      form.append(o.name, file, file.name || 'avatar');
      fetch(o.url, { method: 'POST', body: form })
        .then(function (res) { return res.text().then(function (t) { return { statusCode: res.status, data: t }; }); })
        .then(function (r) { o.success && o.success(r); }, function () { o.fail && o.fail({ errMsg: 'uploadFile:fail' }); });
    },
    setNavigationBarTitle: function (o) {
      document.title = o.title;
      $('.bar h1').textContent = o.title;
    },
    // A browser tab can't close itself when a person opened it; say they may close it.
    exitMiniProgram: function () {
      closed = true;
      render(flow.view());
    },
  };

  function $(sel) { return document.querySelector(sel); }
  function byId(id) { return document.getElementById(id); }
  function show(el, on) { el.hidden = !on; }
  function text(id, value) { byId(id).textContent = value || ''; }

  function applyTexts(t, lang) {
    document.documentElement.lang = lang;
    document.querySelectorAll('[data-t]').forEach(function (el) { el.textContent = t[el.getAttribute('data-t')] || ''; });
    document.querySelectorAll('[data-t-placeholder]').forEach(function (el) { el.setAttribute('placeholder', t[el.getAttribute('data-t-placeholder')] || ''); });
  }

  var lastLang = '';
  function render(v) {
    if (v.lang !== lastLang) {
      applyTexts(v.t, v.lang);
      lastLang = v.lang;
    }
    document.body.setAttribute('data-state', v.state);
    show(byId('loading'), v.state === 'loading');
    show(byId('review'), v.state === 'review');
    show(byId('result'), v.state !== 'loading' && v.state !== 'review');

    if (v.state === 'review') {
      var logo = byId('logo');
      var logoOk = /^https?:\/\//.test(v.site.logoUrl);
      if (logoOk && logo.getAttribute('src') !== v.site.logoUrl) logo.src = v.site.logoUrl;
      show(logo, logoOk);
      text('site-name', v.site.name);
      text('site-origin', v.site.origin);
      text('asks', v.asks);
      text('v-origin', v.site.origin);
      text('v-device', v.device);
      text('v-location', v.location);
      show(byId('row-location'), !!v.location);
      text('v-ip', v.ip);
      show(byId('row-ip'), !!v.ip);
      text('v-time', v.time);
      text('match', v.match);

      show(byId('profile'), v.profile.avatar || v.profile.nickname);
      var preview = byId('avatar-preview');
      if (v.profile.preview) preview.src = v.profile.preview;
      show(preview, !!v.profile.preview);
      show(byId('avatar-placeholder'), !v.profile.preview);
      text('profile-notice', v.profile.notice);
      show(byId('profile-notice'), !!v.profile.notice);

      show(byId('phone'), !!v.phone.asked);
      text('phone-hint', v.phone.hint);
      show(byId('btn-phone'), !v.phone.shared);
      text('phone-notice', v.phone.notice);
      show(byId('phone-notice'), !!v.phone.notice);
      if (v.phone.shared || !v.phone.asked) show(byId('phone-dialog'), false);

      var busy = v.busy !== '';
      byId('btn-confirm').disabled = busy || (v.phone.required && !v.phone.shared);
      byId('btn-confirm').textContent = v.phone.shared ? v.t.confirmWithPhone : v.t.confirm;
      byId('btn-phone').disabled = busy;
      byId('btn-cancel').disabled = busy;
      byId('nickname').disabled = busy;
      byId('avatar-input').disabled = busy;
      byId('btn-confirm').setAttribute('aria-busy', String(v.busy === 'confirm'));
      byId('btn-cancel').setAttribute('aria-busy', String(v.busy === 'cancel'));
    } else if (v.state !== 'loading') {
      byId('result').setAttribute('data-kind', v.result.kind);
      byId('result-icon').className = 'icon icon-' + v.result.kind;
      text('result-title', v.result.title);
      text('result-body', v.result.body);
      show(byId('btn-retry'), v.result.retry && !closed);
      show(byId('btn-back'), !closed);
      show(byId('closed-note'), closed);
    }
  }

  var flow = ScanLogin.flow.createFlow({ wx: wx, serverUrl: location.origin, onChange: render });

  byId('confirm-form').addEventListener('submit', function (e) {
    e.preventDefault();
    flow.confirm({ nickname: byId('nickname').value });
  });
  byId('btn-cancel').addEventListener('click', function () { flow.cancel(); });
  // The getPhoneNumber button: real WeChat shows its own consent dialog; here the tester plays it.
  byId('btn-phone').addEventListener('click', function () {
    show(byId('phone-dialog'), true);
    byId('sandbox-number').focus();
  });
  byId('phone-deny').addEventListener('click', function () {
    show(byId('phone-dialog'), false);
    flow.phoneNumber({ errMsg: 'getPhoneNumber:fail user deny' });
  });
  byId('phone-allow').addEventListener('click', function () {
    var number = byId('sandbox-number').value.replace(/\s+/g, '');
    var error = byId('phone-dialog-error');
    if (!/^[0-9]{4,14}$/.test(number)) {
      text('phone-dialog-error', flow.view().t.sandboxPhoneError);
      show(error, true);
      return;
    }
    show(error, false);
    fetch('/sandbox/phone/number', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ scene: ScanLogin.flow.decodeScene(scene) || String(scene), purePhoneNumber: number }),
    }).then(readBody).then(function (r) {
      if (r.statusCode === 200 && r.data && r.data.code) {
        show(byId('phone-dialog'), false);
        flow.phoneNumber({ code: r.data.code, errMsg: 'getPhoneNumber:ok' });
      } else {
        text('phone-dialog-error', r.data && r.data.error ? r.data.error.message : 'HTTP ' + r.statusCode);
        show(error, true);
      }
    }, function () {
      text('phone-dialog-error', flow.view().t.err_network_title || 'Network error');
      show(error, true);
    });
  });
  byId('btn-retry').addEventListener('click', function () { flow.retry(); });
  byId('btn-back').addEventListener('click', function () { flow.back(); });
  byId('avatar-input').addEventListener('change', function (e) {
    var file = e.target.files && e.target.files[0];
    if (!file) return;
    var url = URL.createObjectURL(file);
    files[url] = file;
    flow.uploadAvatar(url);
  });

  var initial = flow.view();
  render(initial);
  wx.setNavigationBarTitle({ title: initial.t.title });
  flow.start(options);
})();
