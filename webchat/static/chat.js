// Web chat client: Rasa's Socket.IO channel, a persisted session, and a zh/en interface.
(function () {
  "use strict";

  var TEXT = {
    zh: {
      title: "政务服务助手", toggle: "English", send: "发送", inputLabel: "输入您的问题",
      placeholder: "请输入您的问题，例如：办营业执照要什么材料？", log: "对话记录",
      privacy: "请勿在对话中填写完整身份证号、银行卡号等敏感信息。对话内容会被保存，用于改进服务。",
      you: "您", bot: "助手", connecting: "正在连接…", offline: "连接已断开，正在重试…",
      switchPayload: "/switch_language{\"language_name\": \"zh\"}"
    },
    en: {
      title: "Government Services Assistant", toggle: "中文", send: "Send", inputLabel: "Type your question",
      placeholder: "Ask a question, e.g. what do I need for a business licence?", log: "Conversation",
      privacy: "Please don't type full ID-card or bank-card numbers. Conversations are stored to improve the service.",
      you: "You", bot: "Assistant", connecting: "Connecting…", offline: "Connection lost, retrying…",
      switchPayload: "/switch_language{\"language_name\": \"en\"}"
    }
  };
  var STORAGE = window.localStorage;
  var sessionId = STORAGE.getItem("gov-chat-session") || newSessionId();
  STORAGE.setItem("gov-chat-session", sessionId);
  var language = STORAGE.getItem("gov-chat-language") ||
    ((navigator.language || "zh").toLowerCase().indexOf("zh") === 0 ? "zh" : "en");
  var history = JSON.parse(STORAGE.getItem("gov-chat-history-" + sessionId) || "[]");

  var log = document.getElementById("messages");
  var statusLine = document.getElementById("status");
  var input = document.getElementById("message-input");

  function newSessionId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return "s-" + Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function applyLanguage() {
    var t = TEXT[language];
    document.documentElement.lang = language === "zh" ? "zh-CN" : "en";
    document.title = t.title;
    document.querySelectorAll("[data-i18n]").forEach(function (el) { el.textContent = t[el.dataset.i18n]; });
    document.querySelectorAll("[data-i18n-placeholder]").forEach(function (el) { el.placeholder = t[el.dataset.i18nPlaceholder]; });
    document.querySelectorAll("[data-i18n-label]").forEach(function (el) { el.setAttribute("aria-label", t[el.dataset.i18nLabel]); });
  }

  function render(entry) {
    var item = document.createElement("li");
    item.className = entry.from;
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = TEXT[language][entry.from === "user" ? "you" : "bot"];
    item.appendChild(who);
    item.appendChild(document.createTextNode(entry.text));
    if (entry.buttons && entry.buttons.length) {
      var group = document.createElement("div");
      group.className = "quick-replies";
      entry.buttons.forEach(function (button) {
        var el = document.createElement("button");
        el.type = "button";
        el.className = "quick-reply";
        el.textContent = button.title;
        el.addEventListener("click", function () { send(button.payload, button.title); });
        group.appendChild(el);
      });
      item.appendChild(group);
    }
    log.appendChild(item);
    item.scrollIntoView({ block: "end" });
  }

  function remember(entry) {
    history.push(entry);
    STORAGE.setItem("gov-chat-history-" + sessionId, JSON.stringify(history.slice(-200)));
    render(entry);
  }

  var socket = io(window.GOV_CHAT_CONFIG.socketUrl, { path: "/socket.io", transports: ["websocket", "polling"] });
  statusLine.textContent = TEXT[language].connecting;
  socket.on("connect", function () {
    statusLine.textContent = "";
    socket.emit("session_request", { session_id: sessionId });
  });
  socket.on("disconnect", function () { statusLine.textContent = TEXT[language].offline; });
  socket.on("bot_uttered", function (message) {
    var buttons = (message.quick_replies || message.buttons || []).map(function (b) {
      return { title: b.title, payload: b.payload };
    });
    remember({ from: "bot", text: message.text || "", buttons: buttons });
  });

  function send(payload, shown) {
    remember({ from: "user", text: shown || payload });
    socket.emit("user_uttered", { message: payload, session_id: sessionId });
  }

  document.getElementById("composer").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    send(text);
  });

  document.getElementById("language-toggle").addEventListener("click", function () {
    language = language === "zh" ? "en" : "zh";
    STORAGE.setItem("gov-chat-language", language);
    applyLanguage();
    socket.emit("user_uttered", { message: TEXT[language].switchPayload, session_id: sessionId });
  });

  applyLanguage();
  history.forEach(render);
})();
