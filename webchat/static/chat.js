// Web chat client: Rasa's Socket.IO channel, a session kept across reloads, a zh/en interface,
// display options (high contrast, large text) and an embedded mode for /embed.js's iframe.
// The session id and its key are issued by the channel (session_confirm) and kept here: only a
// page presenting both continues the conversation and receives its replies.
// Bot and user text only ever reaches the page through textContent / text nodes (no innerHTML).
(() => {
  "use strict";

  const TEXT = {
    zh: {
      title: "政务服务助手", skip: "跳到输入框", toggle: "English", handoff: "转人工",
      display: "显示设置", contrast: "高对比度", largeText: "大字号",
      privacyTitle: "隐私提示",
      privacy: "对话内容会被保存，用于改进服务；身份证号、手机号会被自动遮盖。请勿输入密码或银行卡信息。",
      privacyHide: "知道了，隐藏", privacyShow: "显示隐私提示",
      log: "对话记录", inputLabel: "输入您的问题", send: "发送",
      placeholder: "请输入您的问题，例如：办营业执照要什么材料？",
      you: "您", bot: "助手", replies: "可选回复", newTab: "（在新窗口打开）",
      starting: "正在启动，请稍候…", connecting: "正在连接…", offline: "连接已断开，正在重新连接…", unreachable: "暂时无法连接服务器，正在重试…",
      queued: "尚未连接：消息会在连接恢复后发出。", waiting: "助手正在回复…",
      voiceLink: "语音服务（适合老年人）",
      switchPayload: "/switch_language{\"language_name\": \"zh\"}"
    },
    en: {
      title: "Government Services Assistant", skip: "Skip to the message box", toggle: "中文",
      handoff: "Talk to a person", display: "Display options", contrast: "High contrast",
      largeText: "Large text", privacyTitle: "Privacy",
      privacy: "Conversations are stored to improve the service; ID-card and phone numbers are masked. Please don't type passwords or bank details.",
      privacyHide: "Got it, hide this", privacyShow: "Show privacy notice",
      log: "Conversation", inputLabel: "Type your question", send: "Send",
      placeholder: "Ask a question, e.g. what do I need for a business licence?",
      you: "You", bot: "Assistant", replies: "Suggested replies", newTab: " (opens in a new tab)",
      starting: "Starting up, one moment…", connecting: "Connecting…", offline: "Connection lost. Reconnecting…",
      unreachable: "Can't reach the server right now. Retrying…",
      queued: "Not connected yet: your message will be sent when the connection is back.",
      waiting: "The assistant is replying…",
      voiceLink: "Voice service",
      switchPayload: "/switch_language{\"language_name\": \"en\"}"
    }
  };
  const KEYS = {
    session: "gov-chat-session", sessionKey: "gov-chat-session-key", language: "gov-chat-language",
    contrast: "gov-chat-high-contrast",
    largeText: "gov-chat-large-text", privacyHidden: "gov-chat-privacy-hidden"
  };
  const HANDOFF_PAYLOAD = "/human_handoff";
  // URLs end at whitespace or at the CJK punctuation that often follows a link in Chinese text.
  const URL_PATTERN = /https?:\/\/[^\s<>"'，。；：！？、（）《》【】“”]+/g;

  const store = window.GovStorage;  // storage.js

  const root = document.documentElement;
  const $ = (id) => document.getElementById(id);
  const log = $("messages");
  const statusLine = $("status");
  const input = $("message-input");
  const params = new URLSearchParams(window.location.search);
  const embedded = params.get("embed") === "1";
  const toLanguage = (tag) => (/^zh/i.test(tag) ? "zh" : "en");

  // A choice the citizen made wins; then the embedding site's data-lang; then the browser.
  let language = store.getItem(KEYS.language) ||
    toLanguage(params.get("lang") || navigator.language || "zh");
  // Until the channel confirms a session, messages wait (an id without its key is not ours).
  let sessionId = store.getItem(KEYS.sessionKey) ? store.getItem(KEYS.session) || "" : "";
  let sessionKey = sessionId ? store.getItem(KEYS.sessionKey) : "";
  let confirmed = false;
  let historyKey = "gov-chat-history-" + sessionId;
  const history = sessionId ? readHistory() : [];
  let statusKey = "";
  let waitTimer = 0;
  const pending = [];  // messages typed while disconnected, sent in order after reconnecting
  // Until the server's /readyz says the assistant can answer, the page says "starting…" and
  // typing is off; the connection's own status is shown once it is ready.
  let starting = true;
  let afterStart = ["connecting", false];

  // The session the channel confirmed: the same one after a reload, or a new one (first visit,
  // or a session it no longer accepts); the history on screen is kept under the new id.
  function adoptSession(confirmation) {
    const id = confirmation && typeof confirmation.session_id === "string" ? confirmation.session_id : "";
    const key = confirmation && typeof confirmation.session_key === "string" ? confirmation.session_key : "";
    if (!id || !key) { return false; }
    if (id !== sessionId) {
      sessionId = id;
      historyKey = "gov-chat-history-" + sessionId;
      store.setItem(historyKey, JSON.stringify(history.slice(-200)));
    }
    sessionKey = key;
    store.setItem(KEYS.session, sessionId);
    store.setItem(KEYS.sessionKey, sessionKey);
    return true;
  }

  function readHistory() {
    try { return JSON.parse(store.getItem(historyKey) || "[]"); } catch (corrupt) { return []; }
  }

  function t(key) { return TEXT[language][key]; }

  function applyLanguage() {
    root.lang = language === "zh" ? "zh-CN" : "en";
    document.title = t("title");
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
    document.querySelectorAll("[data-i18n-label]").forEach((el) => { el.setAttribute("aria-label", t(el.dataset.i18nLabel)); });
    // The toggle names the other language in that language, so screen readers pronounce it right.
    $("language-toggle").lang = language === "zh" ? "en" : "zh-CN";
    log.querySelectorAll("li").forEach((item) => {
      item.querySelector(".who").textContent = t(item.classList.contains("user") ? "you" : "bot");
    });
    log.querySelectorAll(".quick-replies").forEach((group) => group.setAttribute("aria-label", t("replies")));
    setStatus(statusKey, statusLine.classList.contains("problem"));
  }

  function applyDisplay() {
    [["contrast-toggle", KEYS.contrast, "high-contrast"], ["text-size-toggle", KEYS.largeText, "large-text"]]
      .forEach(([id, key, className]) => {
        const on = store.getItem(key) === "1";
        root.classList.toggle(className, on);
        $(id).setAttribute("aria-pressed", String(on));
      });
    const hidden = store.getItem(KEYS.privacyHidden) === "1";
    $("privacy-notice").hidden = hidden;
    $("privacy-show").hidden = !hidden;
  }

  function setStatus(key, problem) {
    if (starting && key !== "starting") { afterStart = [key, problem]; return; }
    statusKey = key || "";
    statusLine.textContent = statusKey ? t(statusKey) : "";
    statusLine.classList.toggle("problem", Boolean(problem));
  }

  // Links become real <a> elements built from text, so a citation is clickable but bot text can
  // never inject markup.
  function appendWithLinks(parent, text) {
    let last = 0;
    for (const match of text.matchAll(URL_PATTERN)) {
      const url = match[0].replace(/[.,;:!?)\]}]+$/, "");  // sentence punctuation is not the link's
      parent.append(text.slice(last, match.index));
      const link = document.createElement("a");
      link.href = url;
      link.textContent = url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      link.setAttribute("aria-describedby", "new-tab-hint");
      parent.append(link);
      last = match.index + url.length;
    }
    parent.append(text.slice(last));
  }

  function render(entry, withButtons) {
    const item = document.createElement("li");
    item.className = entry.from;
    const who = document.createElement("span");
    who.className = "who";  // a visible label of who spoke: not conveyed by colour alone
    who.textContent = t(entry.from === "user" ? "you" : "bot");
    const body = document.createElement("div");
    body.className = "text";
    // Replies can be in the other language than the interface; tell screen readers which.
    body.lang = /[\u3400-\u9fff]/.test(entry.text) ? "zh-CN" : "en";
    if (entry.from === "bot") { appendWithLinks(body, entry.text); } else { body.textContent = entry.text; }
    item.append(who, body);
    if (withButtons && entry.buttons && entry.buttons.length) {
      const group = document.createElement("div");
      group.className = "quick-replies";
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", t("replies"));
      entry.buttons.forEach((choice) => {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "quick-reply";
        button.textContent = choice.title;
        button.addEventListener("click", () => {
          send(choice.payload, choice.title);  // shown in the citizen's words, not the payload
          input.focus();  // the clicked button is gone; keep keyboard users in the conversation
        });
        group.appendChild(button);
      });
      item.appendChild(group);
    }
    log.appendChild(item);
    return item;
  }

  function remember(entry) {
    history.push(entry);
    store.setItem(historyKey, JSON.stringify(history.slice(-200)));
    render(entry, true).scrollIntoView({ block: "end" });
  }

  // Quick replies answer the latest bot turn only (feedback rates the passage last shown), so
  // they go away once the citizen says something else.
  function retireQuickReplies() {
    log.querySelectorAll(".quick-replies").forEach((group) => group.remove());
  }

  const socket = io(window.GOV_CHAT_CONFIG.socketUrl, { path: "/socket.io", transports: ["websocket", "polling"] });

  function deliver(message) {
    if (!socket.connected || !confirmed) {
      pending.push(message);
      setStatus("queued", true);
      return;
    }
    socket.emit("user_uttered", { message: message, session_id: sessionId });
    setStatus("waiting");
    clearTimeout(waitTimer);
    // A paused bot (handed to a person) stays silent; don't claim it is replying forever.
    waitTimer = setTimeout(() => { if (statusKey === "waiting") { setStatus(""); } }, 20000);
  }

  function send(payload, shown) {
    retireQuickReplies();
    remember({ from: "user", text: shown || payload });
    deliver(payload);
  }

  socket.on("connect", () => {
    setStatus("");
    confirmed = false;
    // Rasa sends replies to the session's room: prove the session (or get a new one) before
    // sending anything queued.
    socket.emit("session_request", sessionId ? { session_id: sessionId, session_key: sessionKey } : {});
  });
  socket.on("session_confirm", (confirmation) => {
    if (!adoptSession(confirmation)) { return; }
    confirmed = true;
    if (statusKey === "queued") { setStatus(""); }
    pending.splice(0).forEach(deliver);
  });
  socket.on("disconnect", () => { confirmed = false; setStatus("offline", true); });
  socket.on("connect_error", () => setStatus(statusKey === "offline" ? "offline" : "unreachable", true));
  socket.on("bot_uttered", (message) => {
    const buttons = (message.quick_replies || message.buttons || []).map((b) => ({ title: b.title, payload: b.payload }));
    if (!message.text && !buttons.length) { return; }
    if (statusKey === "waiting") { setStatus(""); }
    remember({ from: "bot", text: message.text || "", buttons: buttons });
  });

  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    send(text);
  });

  $("handoff").addEventListener("click", () => {
    send(HANDOFF_PAYLOAD, t("handoff"));
    input.focus();  // the next step is writing to the person (or leaving a message)
  });

  $("language-toggle").addEventListener("click", () => {
    language = language === "zh" ? "en" : "zh";
    store.setItem(KEYS.language, language);
    applyLanguage();
    deliver(t("switchPayload"));  // the bot answers in the chosen language from now on
  });

  [["contrast-toggle", KEYS.contrast], ["text-size-toggle", KEYS.largeText]].forEach(([id, key]) => {
    $(id).addEventListener("click", () => {
      store.setItem(key, store.getItem(key) === "1" ? "0" : "1");
      applyDisplay();
    });
  });

  // Hiding the notice moves focus to the control that brings it back, and vice versa.
  $("privacy-hide").addEventListener("click", () => {
    store.setItem(KEYS.privacyHidden, "1");
    applyDisplay();
    $("privacy-show").focus();
  });
  $("privacy-show").addEventListener("click", () => {
    store.setItem(KEYS.privacyHidden, "0");
    applyDisplay();
    $("privacy-hide").focus();
  });

  if (embedded) {
    // Inside embed.js's panel: the panel has its own title, and Escape closes it. Key presses
    // in a cross-origin iframe never reach the host page, so tell it with a message.
    root.classList.add("embedded");
    // The voice page needs the microphone, which the embedding frame does not grant: a new tab.
    $("voice-link").target = "_blank";
    $("voice-link").rel = "noopener";
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { window.parent.postMessage({ type: "gov-chat:close" }, "*"); }
    });
    window.addEventListener("message", (event) => {
      if (event.source === window.parent && event.data && event.data.type === "gov-chat:focus") { input.focus(); }
    });
  }

  function enableInput(on) {
    input.disabled = !on;
    $("composer").querySelector("button[type=submit]").disabled = !on;
  }

  function ready() {
    starting = false;
    enableInput(true);
    setStatus(afterStart[0], afterStart[1]);
  }

  applyDisplay();
  enableInput(false);
  setStatus("starting");
  applyLanguage();
  window.GovWhenReady("chat", ready);
  const lastUserTurn = history.map((entry) => entry.from).lastIndexOf("user");
  history.forEach((entry, index) => render(entry, index > lastUserTurn));
  if (log.lastElementChild) { log.lastElementChild.scrollIntoView({ block: "end" }); }
})();
