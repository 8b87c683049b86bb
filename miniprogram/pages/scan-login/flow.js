/**
 * The confirm page's logic: a small state machine plus the three API calls, with `wx`
 * injected so the mini-program page, the sandbox phone page (a browser `wx`) and the tests
 * all run this same code. Written in plain ES2015 (no async/await, no optional chaining)
 * so it loads on every base library without the devtools' enhanced compilation.
 *
 * States: loading → review → done | cancelled, and error from any step. `busy` marks a
 * confirm or cancel in flight while the review screen stays visible.
 */
var i18n = require('./i18n');

var SCENE_RE = /^[A-Za-z0-9_-]{1,32}$/;

/** Server error codes (DESIGN §4) → what we tell the visitor. Anything unknown is "server". */
var CODE_KIND = {
  session_expired: 'expired',
  session_not_found: 'not_found',
  invalid_state: 'not_found',
  already_used: 'not_found',
  already_scanned: 'already_scanned',
  wrong_user: 'wrong_user',
  wechat_error: 'wechat',
  rate_limited: 'rate',
  quota_exceeded: 'quota',
  phone_required: 'phone',
  unavailable: 'server',
};

/**
 * A 503 `unavailable` (the server has no worker free to ask WeChat, or a store is briefly
 * down) is tried again on its own, after the server's Retry-After (bounded), before the
 * visitor is asked to tap Retry. wx.request gives up after 15 s and the server answers well
 * before that, so each try ends in an answer.
 */
var AUTO_RETRIES = 2;
var RETRY_AFTER_MIN_MS = 500;
var RETRY_AFTER_MAX_MS = 5000;

/** Avatars are shrunk on the phone before upload: the server takes at most 512 KB. */
var AVATAR_QUALITY = 80;
var AVATAR_WIDTH = 256;

/** Failures that may pass on their own; the others need a fresh code on the computer. */
var RETRYABLE = { network: true, login: true, wechat: true, rate: true, server: true };

/** The code image carries the scene URL-encoded (WeChat's rule); a hand-made link may not. */
function decodeScene(raw) {
  if (raw == null) return null;
  var s = String(raw);
  try {
    s = decodeURIComponent(s);
  } catch (e) {
    return null;
  }
  return SCENE_RE.test(s) ? s : null;
}

/**
 * A link-style code (DESIGN §11) opens the page with `q` = the URL-encoded link
 * {PUBLIC_URL}/q/{appId}/{sessionId} and `scancode_time` (Unix seconds): the session id is
 * the link's last path segment.
 */
function sceneFromLink(q) {
  var link;
  try {
    link = decodeURIComponent(String(q));
  } catch (e) {
    return null;
  }
  var m = /\/q\/app_[A-Za-z0-9]+\/([A-Za-z0-9_-]{1,32})(?:[?#].*)?$/.exec(link);
  return m ? m[1] : null;
}

/**
 * No session lives longer than 10 minutes (the console's limit), so options carrying a scan
 * older than that are the page reopened from history or a share: say so instead of asking the server.
 */
var STALE_SCAN_S = 600;

/** The page's onLoad options → {scene} or {error: 'bad_link' | 'stale'}. */
function readOptions(options, nowMs) {
  var o = options || {};
  if (o.scene != null) {
    var scene = decodeScene(o.scene);
    return scene ? { scene: scene } : { error: 'bad_link' };
  }
  if (o.q == null) return { error: 'bad_link' };
  var fromLink = sceneFromLink(o.q);
  if (!fromLink) return { error: 'bad_link' };
  if (o.scancode_time != null) {
    var at = Number(o.scancode_time);
    if (!isFinite(at) || nowMs / 1000 - at > STALE_SCAN_S) return { error: 'stale' };
  }
  return { scene: fromLink };
}

function errorKind(err, step) {
  if (!err) return 'server';
  if (err.network) return 'network';
  if (err.stale) return 'stale';
  if (err.code && CODE_KIND[err.code]) return CODE_KIND[err.code];
  if (err.login) return 'login';
  // A bad scene only shows up as a 400 on scan; on confirm/cancel a 400 is our bug.
  if (err.code === 'bad_request' && step === 'scan') return 'bad_link';
  return 'server';
}

function pad(n) {
  return n < 10 ? '0' + n : String(n);
}

/** Local time of the phone, the same shape in both languages (no Intl: not every base library has it). */
function formatTime(iso) {
  var d = new Date(iso);
  if (isNaN(d.getTime())) return '';
  return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
}

/** `location` may be a ready string or {country, region, city}; duplicates (e.g. 上海 上海) collapse. */
function formatLocation(loc, lang) {
  if (!loc) return '';
  if (typeof loc === 'string') return i18n.place(loc, lang);
  var parts = [];
  [loc.country, loc.region, loc.city].forEach(function (p) {
    if (p && parts.indexOf(p) < 0) parts.push(String(p));
  });
  return parts.join(lang === 'zh-CN' ? ' ' : ', ');
}

function formatDevice(req, t) {
  var browser = req && req.browser;
  var os = req && req.os;
  if (browser && os) return i18n.format(t.deviceValue, { browser: browser, os: os });
  return browser || os || '—';
}

function systemLanguage(wx) {
  try {
    if (typeof wx.getAppBaseInfo === 'function') return wx.getAppBaseInfo().language;
    return wx.getSystemInfoSync().language;
  } catch (e) {
    return '';
  }
}

function canIUse(wx, what) {
  try {
    return typeof wx.canIUse === 'function' && wx.canIUse(what) === true;
  } catch (e) {
    return false;
  }
}

/** Retry-After in ms from wx.request's response headers (any case), within our bounds. */
function retryAfterMs(header) {
  var raw;
  for (var k in header || {}) if (String(k).toLowerCase() === 'retry-after') raw = header[k];
  var s = Number(raw);
  var ms = isFinite(s) && s > 0 ? s * 1000 : 2000;
  return Math.min(Math.max(ms, RETRY_AFTER_MIN_MS), RETRY_AFTER_MAX_MS);
}

function parseBody(data) {
  if (typeof data !== 'string') return data;
  try {
    return JSON.parse(data);
  } catch (e) {
    return null;
  }
}

/**
 * @param {{wx: object, serverUrl: string, onChange?: function(object): void}} opts
 */
function createFlow(opts) {
  var wx = opts.wx;
  var serverUrl = String(opts.serverUrl || '').replace(/\/+$/, '');
  var onChange = opts.onChange || function () {};

  var s = {
    state: 'loading',
    lang: i18n.pickLang(systemLanguage(wx)),
    scene: null,
    ticket: null,
    scan: null,
    busy: '',
    error: null, // {kind, step}
    lastProfile: null,
    profile: {
      avatar: canIUse(wx, 'button.open-type.chooseAvatar'),
      nickname: canIUse(wx, 'input.type.nickname'),
      preview: '',
      avatarUrl: '',
      uploading: false,
      failed: false,
    },
    // What the site asks beyond the login ('' | 'optional' | 'required') and the visitor's answer:
    // the getPhoneNumber button's one-time code, a refusal, or a code WeChat would not honour.
    phone: { asked: '', code: '', declined: false, failed: false },
    cancelReason: '',
  };
  var pendingUpload = null;

  function post(path, body) {
    return new Promise(function (resolve, reject) {
      wx.request({
        url: serverUrl + path,
        method: 'POST',
        data: body,
        header: { 'content-type': 'application/json' },
        timeout: 15000,
        success: function (res) {
          var data = parseBody(res.data);
          if (res.statusCode >= 200 && res.statusCode < 300 && data && typeof data === 'object') {
            resolve(data);
            return;
          }
          var e = data && data.error ? data.error : {};
          reject({ status: res.statusCode, code: e.code, requestId: e.requestId, retryAfterMs: retryAfterMs(res.header) });
        },
        fail: function (e) {
          reject({ network: true, detail: e && e.errMsg });
        },
      });
    });
  }

  function login() {
    return new Promise(function (resolve, reject) {
      wx.login({
        timeout: 10000,
        success: function (r) {
          if (r && r.code) resolve(r.code);
          else reject({ login: true });
        },
        fail: function (e) {
          // The sandbox phone's login can know why (an expired code, say) and passes the code on.
          reject({ login: true, code: e && typeof e.code === 'string' ? e.code : undefined, detail: e && e.errMsg });
        },
      });
    });
  }

  function emit() {
    onChange(view());
  }

  /**
   * Runs `attempt` (which makes a whole step: a scan asks wx.login for a fresh code each time)
   * and runs it again while the server says `unavailable`, at most AUTO_RETRIES times.
   */
  function withRetries(attempt) {
    function run(left) {
      return attempt().catch(function (err) {
        if (!err || err.code !== 'unavailable' || left <= 0) throw err;
        return new Promise(function (resolve) {
          setTimeout(resolve, err.retryAfterMs);
        }).then(function () {
          return run(left - 1);
        });
      });
    }
    return run(AUTO_RETRIES);
  }

  function fail(step, err) {
    s.busy = '';
    s.state = 'error';
    s.error = { kind: errorKind(err, step), step: step, requestId: (err && err.requestId) || '' };
    emit();
  }

  function view() {
    var t = i18n.texts(s.lang);
    var v = {
      state: s.state,
      lang: s.lang,
      t: t,
      busy: s.busy,
      site: { name: '', origin: '', logoUrl: '' },
      asks: '',
      device: '',
      location: '',
      ip: '',
      time: '',
      match: '',
      profile: {
        avatar: s.profile.avatar,
        nickname: s.profile.nickname,
        preview: s.profile.preview,
        uploading: s.profile.uploading,
        notice: s.profile.uploading ? t.avatarUploading : s.profile.failed ? t.avatarFailed : '',
      },
      result: { title: '', body: '', retry: false, kind: '' },
      phone: { asked: s.phone.asked, required: s.phone.asked === 'required', shared: !!s.phone.code, hint: '', notice: '' },
    };
    if (s.phone.asked) {
      v.phone.hint = s.phone.asked === 'required' ? t.phoneRequiredHint : t.phoneOptionalHint;
      v.phone.notice = s.phone.code ? t.phoneShared : s.phone.failed ? t.phoneFailed : s.phone.declined ? t.phoneDeclined : '';
    }
    if (s.scan) {
      var site = s.scan.site || {};
      var req = s.scan.request || {};
      v.site = { name: site.name || '', origin: site.origin || '', logoUrl: site.logoUrl || '' };
      v.asks = i18n.format(t.asks, { site: site.name || site.origin || '' });
      v.device = formatDevice(req, t);
      v.location = formatLocation(req.location, s.lang);
      v.ip = req.ip || '';
      v.time = formatTime(req.createdAt);
      v.match = s.scan.match || '';
    }
    if (s.state === 'done') v.result = { kind: 'done', title: t.doneTitle, body: t.doneBody, retry: false };
    else if (s.state === 'cancelled') v.result = { kind: 'cancelled', title: t.cancelledTitle, body: s.cancelReason === 'phone' ? t.cancelledPhoneBody : t.cancelledBody, retry: false };
    else if (s.state === 'error' && s.error) {
      var k = s.error.kind;
      v.result = { kind: 'error', title: t['err_' + k + '_title'], body: t['err_' + k + '_body'], retry: !!RETRYABLE[k], code: k };
    }
    return v;
  }

  function scan() {
    s.state = 'loading';
    s.error = null;
    emit();
    // A wx.login code is single-use, so every scan attempt (and retry) asks for a new one.
    return withRetries(function () {
      return login().then(function (code) {
        return post('/v1/mp/scan', { scene: s.scene, code: code });
      });
    })
      .then(function (data) {
        s.ticket = data.ticket;
        s.scan = data;
        s.phone.asked = data.asks && (data.asks.phoneNumber === 'optional' || data.asks.phoneNumber === 'required') ? data.asks.phoneNumber : '';
        s.state = 'review';
        emit();
      })
      .catch(function (err) {
        fail('scan', err);
      });
  }

  /** The chosen avatar, shrunk; the original when this base library can't (or fails to). */
  function compress(path) {
    if (typeof wx.compressImage !== 'function') return Promise.resolve(path);
    return new Promise(function (resolve) {
      wx.compressImage({
        src: path,
        quality: AVATAR_QUALITY,
        // Base library 2.26+; older ones ignore it and keep the size.
        compressedWidth: AVATAR_WIDTH,
        success: function (r) {
          resolve((r && r.tempFilePath) || path);
        },
        fail: function () {
          resolve(path);
        },
      });
    });
  }

  function cleanProfile(form) {
    var p = {};
    var nick = form && typeof form.nickname === 'string' ? form.nickname.replace(/^\s+|\s+$/g, '').slice(0, 64) : '';
    if (nick) p.nickname = nick;
    if (s.profile.avatarUrl) p.avatarUrl = s.profile.avatarUrl;
    return p.nickname || p.avatarUrl ? p : null;
  }

  function doConfirm(form) {
    s.busy = 'confirm';
    s.state = 'review';
    emit();
    // Let a running avatar upload finish first; its failure never blocks the login.
    return Promise.resolve(pendingUpload)
      .then(function () {
        var profile = cleanProfile(form);
        s.lastProfile = form || null;
        var body = { scene: s.scene, ticket: s.ticket };
        if (profile) body.profile = profile;
        if (s.phone.code) body.phoneCode = s.phone.code;
        return withRetries(function () {
          return post('/v1/mp/confirm', body);
        });
      })
      .then(function () {
        s.busy = '';
        s.state = 'done';
        emit();
      })
      .catch(function (err) {
        // A phone code is spent (or refused) by WeChat: back to the review screen to ask for a new one.
        if (s.phone.code && err && err.code === 'wechat_error') {
          s.phone.code = '';
          s.phone.failed = true;
          s.busy = '';
          s.state = 'review';
          emit();
          return;
        }
        fail('confirm', err);
      });
  }

  function doCancel(reason) {
    s.cancelReason = reason || '';
    s.busy = 'cancel';
    s.state = 'review';
    emit();
    return withRetries(function () {
      return post('/v1/mp/cancel', { scene: s.scene, ticket: s.ticket });
    })
      .then(function () {
        s.busy = '';
        s.state = 'cancelled';
        emit();
      })
      .catch(function (err) {
        fail('cancel', err);
      });
  }

  return {
    view: view,

    /** `options` are the page's onLoad options: {scene} from a mini-program code, or {q, scancode_time} from a link-style code. */
    start: function (options) {
      var read = readOptions(options, Date.now());
      if (!read.scene) {
        fail('scan', read.error === 'stale' ? { stale: true } : { code: 'bad_request' });
        return Promise.resolve();
      }
      s.scene = read.scene;
      return scan();
    },

    /** `form` is the confirm form's values: {nickname?} (type="nickname" is only final on submit). */
    confirm: function (form) {
      if (s.state !== 'review' || s.busy) return Promise.resolve();
      // The button is disabled too; this holds where a base library ignores that.
      if (s.phone.asked === 'required' && !s.phone.code) return Promise.resolve();
      return doConfirm(form);
    },

    cancel: function () {
      if (s.state !== 'review' || s.busy) return Promise.resolve();
      return doCancel();
    },

    /**
     * The getPhoneNumber button's answer (its e.detail): a one-time `code` when the visitor
     * agreed. A refusal on a site that requires the number cancels the login on both sides.
     */
    phoneNumber: function (detail) {
      if (s.state !== 'review' || s.busy || !s.phone.asked) return Promise.resolve();
      var code = detail && typeof detail.code === 'string' ? detail.code : '';
      s.phone.failed = false;
      if (code) {
        s.phone.code = code;
        s.phone.declined = false;
        emit();
        return Promise.resolve();
      }
      s.phone.code = '';
      if (s.phone.asked === 'required') return doCancel('phone');
      s.phone.declined = true;
      emit();
      return Promise.resolve();
    },

    retry: function () {
      if (s.state !== 'error' || !s.error || !RETRYABLE[s.error.kind]) return Promise.resolve();
      var step = s.error.step;
      if (step === 'confirm') return doConfirm(s.lastProfile);
      if (step === 'cancel') return doCancel(s.cancelReason);
      return scan();
    },

    /** `tempPath` is chooseAvatar's e.detail.avatarUrl (a local temp file). Never required. */
    uploadAvatar: function (tempPath) {
      if (s.state !== 'review' || !tempPath || !s.ticket) return Promise.resolve();
      s.profile.preview = tempPath;
      s.profile.avatarUrl = '';
      s.profile.uploading = true;
      s.profile.failed = false;
      emit();
      var attempt = compress(tempPath).then(function (filePath) {
        return new Promise(function (resolve) {
          wx.uploadFile({
            url: serverUrl + '/v1/mp/avatar',
            filePath: filePath,
            name: 'file',
            formData: { scene: s.scene, ticket: s.ticket },
            timeout: 20000,
            success: function (res) {
              var data = parseBody(res.data);
              resolve(res.statusCode >= 200 && res.statusCode < 300 && data && typeof data.avatarUrl === 'string' ? data.avatarUrl : '');
            },
            fail: function () {
              resolve('');
            },
          });
        });
      }).then(function (url) {
        if (pendingUpload !== attempt) return; // a newer choice replaced this one
        pendingUpload = null;
        s.profile.uploading = false;
        s.profile.avatarUrl = url;
        s.profile.failed = !url;
        if (!url) s.profile.preview = '';
        emit();
      });
      pendingUpload = attempt;
      return attempt;
    },

    /** Leave after a result: close the mini-program when the base library can, else go back. */
    back: function () {
      if (typeof wx.exitMiniProgram === 'function') {
        wx.exitMiniProgram({
          fail: function () {
            if (typeof wx.navigateBack === 'function') wx.navigateBack({ delta: 1 });
          },
        });
      } else if (typeof wx.navigateBack === 'function') {
        wx.navigateBack({ delta: 1 });
      }
    },
  };
}

module.exports = {
  createFlow: createFlow,
  decodeScene: decodeScene,
  readOptions: readOptions,
  errorKind: errorKind,
  formatTime: formatTime,
  formatLocation: formatLocation,
  RETRYABLE: RETRYABLE,
};
