/**
 * Every text the confirm page shows, in Simplified Chinese and English. The sandbox phone
 * page (/sandbox/phone) loads this same file, so sandbox users read exactly what visitors
 * read in WeChat. Placeholders are {name}.
 */
var TEXTS = {
  'zh-CN': {
    title: '确认登录',
    loading: '正在读取登录请求…',
    asks: '{site} 请求使用你的微信账号登录',
    origin: '网站',
    device: '设备',
    deviceValue: '{os} 上的 {browser}',
    location: '大致位置',
    ip: 'IP 地址',
    time: '发起时间',
    matchLabel: '核对数字',
    warning: '请确认这个数字与电脑屏幕上显示的一致，并且这是你本人刚刚发起的登录。如有疑问，请点击“取消”。',
    confirm: '确认登录',
    cancel: '取消',
    profileTitle: '同步头像和昵称（可选）',
    profileHint: '不填写也可以正常登录。',
    chooseAvatar: '选择头像',
    nicknamePlaceholder: '输入昵称',
    avatarUploading: '正在上传头像…',
    avatarFailed: '头像上传失败，你仍然可以直接登录。',
    doneTitle: '登录成功',
    doneBody: '请回到电脑上继续操作。',
    cancelledTitle: '已取消登录',
    cancelledBody: '电脑上的网站不会登录你的账号。',
    phoneAsks: '该网站还请求获取你的手机号',
    phoneRequiredHint: '不提供手机号将无法登录该网站。',
    phoneOptionalHint: '不提供手机号也可以登录。',
    phoneShare: '提供手机号',
    phoneShared: '✓ 登录时将提供你的微信绑定手机号',
    phoneDeclined: '你选择了不提供手机号。',
    phoneFailed: '未能获取手机号，请再点一次“提供手机号”。',
    confirmWithPhone: '提供手机号并登录',
    cancelledPhoneBody: '该网站需要你的手机号才能登录。你没有提供，电脑上的网站不会登录你的账号。',
    sandboxPhoneDialog: '沙盒：真实微信会在这里弹出授权窗口。选择微信将提供的手机号：',
    sandboxPhoneLabel: '手机号（不含 +86）',
    sandboxPhoneAllow: '允许',
    sandboxPhoneDeny: '拒绝',
    sandboxPhoneError: '请输入 4 到 14 位数字。',
    back: '返回微信',
    retry: '重试',
    sandboxNote: '这是沙盒中的模拟手机。在真实的微信中，访客会在小程序里看到同样的页面。',
    sandboxClose: '现在可以关闭此页面了。',
    err_expired_title: '二维码已过期',
    err_expired_body: '请在电脑上刷新二维码，然后重新扫码。',
    err_not_found_title: '这个登录请求已失效',
    err_not_found_body: '请在电脑上刷新二维码，然后重新扫码。',
    err_already_scanned_title: '二维码已被其他人扫描',
    err_already_scanned_body: '如果不是你本人扫的，请在电脑上刷新二维码，然后重新扫码。',
    err_wrong_user_title: '请使用扫码的微信账号操作',
    err_wrong_user_body: '这个登录请求是由另一个微信账号扫码的。',
    err_stale_title: '这次扫码已经过时',
    err_stale_body: '这个页面是从很久以前的一次扫码重新打开的。请在电脑上刷新二维码，然后重新扫码。',
    err_bad_link_title: '无法识别这个二维码',
    err_bad_link_body: '请重新扫描电脑上显示的二维码。',
    err_network_title: '网络连接失败',
    err_network_body: '请检查手机网络后重试。',
    err_login_title: '无法获取微信登录状态',
    err_login_body: '请稍后重试。',
    err_wechat_title: '微信暂时无法完成登录',
    err_wechat_body: '请稍后重试。',
    err_rate_title: '操作太频繁',
    err_rate_body: '请稍等片刻再试。',
    err_quota_title: '该网站本月登录人数已达上限',
    err_quota_body: '该网站的套餐已达到本月活跃用户上限，请联系网站所有者。',
    err_phone_title: '该网站需要你的手机号',
    err_phone_body: '请刷新电脑上的二维码后重新扫码，并提供手机号。',
    err_server_title: '服务暂时出了点问题',
    err_server_body: '这不是你的问题，请稍后重试。',
  },
  en: {
    title: 'Confirm login',
    loading: 'Loading the login request…',
    asks: '{site} wants you to log in with your WeChat account',
    origin: 'Website',
    device: 'Device',
    deviceValue: '{browser} on {os}',
    location: 'Approximate location',
    ip: 'IP address',
    time: 'Started at',
    matchLabel: 'Matching number',
    warning: 'Make sure this number matches the one on your computer screen and that you started this login yourself. If in doubt, tap Cancel.',
    confirm: 'Log in',
    cancel: 'Cancel',
    profileTitle: 'Share your avatar and nickname (optional)',
    profileHint: 'You can log in without them.',
    chooseAvatar: 'Choose avatar',
    nicknamePlaceholder: 'Enter a nickname',
    avatarUploading: 'Uploading your avatar…',
    avatarFailed: 'Your avatar could not be uploaded. You can still log in without it.',
    doneTitle: 'You are logged in',
    doneBody: 'Go back to your computer to continue.',
    cancelledTitle: 'Login cancelled',
    cancelledBody: 'The site on your computer will not be logged in.',
    phoneAsks: 'This site also asks for your phone number',
    phoneRequiredHint: 'You cannot log in to this site without it.',
    phoneOptionalHint: 'You can log in without it.',
    phoneShare: 'Share phone number',
    phoneShared: '✓ Your WeChat phone number will be shared when you log in',
    phoneDeclined: 'You chose not to share your phone number.',
    phoneFailed: 'Your phone number could not be read. Tap "Share phone number" again.',
    confirmWithPhone: 'Share phone number and log in',
    cancelledPhoneBody: 'This site needs your phone number to log you in. You did not share it, so the site on your computer will not be logged in.',
    sandboxPhoneDialog: 'Sandbox: real WeChat asks the visitor here. Pick the number WeChat will vouch for:',
    sandboxPhoneLabel: 'Phone number (without +86)',
    sandboxPhoneAllow: 'Allow',
    sandboxPhoneDeny: 'Deny',
    sandboxPhoneError: 'Enter 4 to 14 digits.',
    back: 'Back to WeChat',
    retry: 'Try again',
    sandboxNote: 'This is the sandbox phone. In real WeChat, visitors see this same page inside the mini-program.',
    sandboxClose: 'You can close this page now.',
    err_expired_title: 'This code has expired',
    err_expired_body: 'Refresh the code on your computer, then scan it again.',
    err_not_found_title: 'This login request is no longer valid',
    err_not_found_body: 'Refresh the code on your computer, then scan it again.',
    err_already_scanned_title: 'Someone else already scanned this code',
    err_already_scanned_body: 'If it was not you, refresh the code on your computer, then scan it again.',
    err_wrong_user_title: 'Use the WeChat account that scanned the code',
    err_wrong_user_body: 'This login request was scanned with a different WeChat account.',
    err_stale_title: 'This scan is out of date',
    err_stale_body: 'This page was reopened from a scan made long ago. Refresh the code on your computer, then scan it again.',
    err_bad_link_title: 'This code cannot be read',
    err_bad_link_body: 'Scan the code shown on your computer again.',
    err_network_title: 'No connection',
    err_network_body: 'Check your phone\u2019s network connection and try again.',
    err_login_title: 'Could not get your WeChat sign-in',
    err_login_body: 'Try again in a moment.',
    err_wechat_title: 'WeChat could not complete the login right now',
    err_wechat_body: 'Try again in a moment.',
    err_rate_title: 'Too many attempts',
    err_rate_body: 'Wait a moment and try again.',
    err_quota_title: "This site has reached its plan's limit",
    err_quota_body: "The site has reached its plan's limit of monthly users. Ask its owner to upgrade.",
    err_phone_title: 'This site needs your phone number',
    err_phone_body: 'Refresh the code on your computer, scan it again and share your phone number.',
    err_server_title: 'Something went wrong on our side',
    err_server_body: 'It is not your fault. Try again in a moment.',
  },
};

var LANGS = ['zh-CN', 'en'];

/** WeChat reports 'zh_CN', 'zh_TW', 'zh_HK', 'en'…; browsers 'zh-CN', 'en-US'… Any Chinese reads zh-CN here. */
function pickLang(language) {
  var l = String(language || '').toLowerCase();
  return l.indexOf('zh') === 0 ? 'zh-CN' : 'en';
}

function texts(lang) {
  return TEXTS[lang] || TEXTS.en;
}

function format(template, vars) {
  return String(template).replace(/\{(\w+)\}/g, function (m, k) {
    return vars && vars[k] != null ? String(vars[k]) : m;
  });
}

/**
 * The server names the coarse location of private addresses in English (sessions/client-info.ts);
 * these are the same places in the other language. Anything else (a GeoIP place) passes through.
 */
var PLACES = {
  'zh-CN': { 'This computer (localhost)': '本机 (localhost)', 'Local network': '局域网' },
};

function place(location, lang) {
  return (PLACES[lang] && PLACES[lang][location]) || location;
}

module.exports = { TEXTS: TEXTS, LANGS: LANGS, pickLang: pickLang, texts: texts, format: format, place: place };
