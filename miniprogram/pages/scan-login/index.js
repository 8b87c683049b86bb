/**
 * The confirm page. Built with Component() (pages may be, since base library 1.6.3) so the
 * same file renders in WeChat and in miniprogram-simulate; all logic lives in flow.js.
 */
var flowModule = require('./flow');
var config = require('./config');

Component({
  data: flowModule.createFlow({ wx: wx, serverUrl: config.serverUrl }).view(),

  methods: {
    onLoad: function (options) {
      var page = this;
      var lang = this.data.lang;
      this.flow = flowModule.createFlow({
        wx: wx,
        serverUrl: config.serverUrl,
        onChange: function (view) {
          // setData crosses to the render thread: send the texts only when the language changes.
          if (view.lang === lang) delete view.t;
          lang = view.lang;
          page.setData(view);
        },
      });
      var t = this.flow.view().t;
      if (typeof wx.setNavigationBarTitle === 'function') wx.setNavigationBarTitle({ title: t.title });
      return this.flow.start(options || {});
    },

    /** The confirm form's submit: type="nickname" input values are only final here. */
    onConfirm: function (e) {
      var value = (e && e.detail && e.detail.value) || {};
      return this.flow.confirm({ nickname: value.nickname });
    },

    onCancel: function () {
      return this.flow.cancel();
    },

    onRetry: function () {
      return this.flow.retry();
    },

    /** The getPhoneNumber button's answer: e.detail.code when the visitor agreed. */
    onPhoneNumber: function (e) {
      return this.flow.phoneNumber(e && e.detail);
    },

    onChooseAvatar: function (e) {
      return this.flow.uploadAvatar(e && e.detail && e.detail.avatarUrl);
    },

    onBack: function () {
      this.flow.back();
    },
  },
});
