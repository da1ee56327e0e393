// One tag puts the chat on any site:
//   <script src="https://chat.example.gov.cn/embed.js" async data-lang="zh"></script>
// It adds a floating "在线咨询 / Ask us" button that opens the chat page in a panel (an iframe
// from the chat server). data-lang (zh/en) is optional; without it the host page's lang is used.
// Everything lives in a shadow root so the host site's CSS and ours cannot affect each other.
(() => {
  "use strict";
  if (window.__govChatEmbed) { return; }  // the tag was included twice: keep one launcher
  window.__govChatEmbed = true;

  // currentScript is only set while this script first runs (async too), so read it now.
  const script = document.currentScript || document.querySelector('script[src*="/embed.js"]');
  const chatOrigin = new URL(script.src, window.location.href).origin;
  const lang = (script.dataset.lang || document.documentElement.lang || "").toLowerCase();
  const LABELS = {
    zh: { open: "在线咨询", close: "关闭", title: "政务服务助手" },
    en: { open: "Ask us", close: "Close", title: "Government Services Assistant" },
    both: { open: "在线咨询 / Ask us", close: "关闭 / Close", title: "政务服务助手 / Government Services Assistant" }
  };
  const language = lang.startsWith("zh") ? "zh" : lang.startsWith("en") ? "en" : "";
  const text = LABELS[language || "both"];

  const STYLE = `
    :host { all: initial; }
    button { font: 600 16px/1.2 system-ui, "PingFang SC", "Microsoft YaHei", sans-serif; cursor: pointer; }
    .launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; min-width: 48px; min-height: 48px;
      padding: 12px 20px; border: 2px solid #fff; border-radius: 999px; background: #0b4f9c; color: #fff;
      box-shadow: 0 2px 10px rgba(0, 0, 0, .35); }
    .launcher:hover { text-decoration: underline; }
    .launcher:focus-visible { outline: 3px solid #1a1a1a; outline-offset: 2px; box-shadow: 0 0 0 2px #ffd400; }
    .panel { position: fixed; right: 20px; bottom: 88px; z-index: 2147483001; width: 400px;
      height: min(640px, calc(100vh - 108px)); display: flex; flex-direction: column; overflow: hidden;
      background: #fff; border: 1px solid #6b6b6b; border-radius: 10px; box-shadow: 0 4px 24px rgba(0, 0, 0, .3); }
    .panel[hidden] { display: none; }
    .bar { display: flex; align-items: center; justify-content: space-between; gap: 8px; padding: 2px 2px 2px 14px;
      background: #0b4f9c; color: #fff; font: 600 16px/1.3 system-ui, "PingFang SC", "Microsoft YaHei", sans-serif; }
    .close { min-width: 44px; min-height: 44px; padding: 0 10px; border: 2px solid transparent; border-radius: 6px;
      background: transparent; color: #fff; }
    .close:focus-visible { outline: 3px solid #ffd400; outline-offset: -3px; }
    iframe { flex: 1; width: 100%; border: 0; background: #fff; }
    /* Small phones (or short landscape screens): the panel takes the whole screen. */
    @media (max-width: 480px), (max-height: 520px) {
      .panel { inset: 0; width: auto; height: auto; border: 0; border-radius: 0; }
    }`;

  function element(tag, attributes, content) {
    const node = document.createElement(tag);
    Object.entries(attributes).forEach(([name, value]) => node.setAttribute(name, value));
    if (content) { node.textContent = content; }
    return node;
  }

  const container = element("div", { id: "gov-chat-embed" });
  const shadow = container.attachShadow({ mode: "open" });
  const launcher = element("button", { type: "button", class: "launcher", "aria-expanded": "false", "aria-controls": "gov-chat-panel" }, text.open);
  const panel = element("div", { id: "gov-chat-panel", class: "panel", role: "dialog", "aria-label": text.title });
  const closeButton = element("button", { type: "button", class: "close", "aria-label": text.close, title: text.close }, "✕");
  const bar = element("div", { class: "bar" });
  bar.append(element("span", {}, text.title), closeButton);
  panel.append(bar);
  panel.hidden = true;
  if (language) { [launcher, panel].forEach((node) => { node.lang = language === "zh" ? "zh-CN" : "en"; }); }
  shadow.append(element("style", {}, STYLE), launcher, panel);
  let frame = null;

  function focusChat() {
    frame.focus();
    // Ask the chat page to put the cursor in its message box (it is another origin: no DOM access).
    frame.contentWindow.postMessage({ type: "gov-chat:focus" }, chatOrigin);
  }

  function open() {
    if (!frame) {
      // Created on first open, so a page view that never opens the chat costs nothing.
      const query = "?embed=1" + (language ? "&lang=" + language : "");
      frame = element("iframe", { src: chatOrigin + "/" + query, title: text.title });
      frame.addEventListener("load", () => { if (!panel.hidden) { focusChat(); } });
      panel.append(frame);
    }
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    focusChat();
  }

  function close() {
    if (panel.hidden) { return; }
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();  // back to where the citizen started
  }

  launcher.addEventListener("click", () => (panel.hidden ? open() : close()));
  closeButton.addEventListener("click", close);
  document.addEventListener("keydown", (event) => { if (event.key === "Escape") { close(); } });
  // Escape pressed inside the iframe never reaches this page; the chat page posts it instead.
  window.addEventListener("message", (event) => {
    if (frame && event.source === frame.contentWindow && event.origin === chatOrigin &&
        event.data && event.data.type === "gov-chat:close") { close(); }
  });

  if (document.body) { document.body.append(container); } else {
    document.addEventListener("DOMContentLoaded", () => document.body.append(container));
  }
})();
