/**
 * The one setting of this page: where your wechat-scan-login server is.
 * Use the same https origin you added to the mini-program's "request 合法域名" and
 * "uploadFile 合法域名" lists (no trailing slash).
 */
module.exports = {
  serverUrl: 'https://login.example.com',
};
