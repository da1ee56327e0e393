// The voice page's number keypad: while the assistant asks for an application number, a ticket
// reference or the last four digits, big keys let the citizen type the number instead of saying
// it (a misheard digit costs a verification attempt). It is told what each reply asks for by
// voice.js ("gov-voice:reply") and hands back what was typed ("gov-voice:typed"), which voice.js
// sends as the text of a turn. Its labels follow the page's language (the <html lang>).
(() => {
  "use strict";

  const TEXT = {
    zh: {
      reference_number: "也可以在这里输入号码", verification_code: "也可以在这里输入后四位数字",
      entered: "已输入：", empty: "（还没有输入）", delete: "删除", send: "发送",
      deleteLabel: "删除最后一位", sendLabel: "发送号码", gov: "申请号开头 GOV", ticket: "工单号开头 T"
    },
    en: {
      reference_number: "Or type the number here", verification_code: "Or type the last four digits here",
      entered: "Typed: ", empty: "(nothing yet)", delete: "Delete", send: "Send",
      deleteLabel: "Delete the last character", sendLabel: "Send the number",
      gov: "Application number prefix GOV", ticket: "Ticket reference prefix T"
    }
  };
  // Digits after each prefix, and where the number's own dashes go.
  const SHAPES = { "GOV-": { digits: 10, dashAfter: 4 }, "T-": { digits: 14, dashAfter: 8 }, "": { digits: 18, dashAfter: 0 } };

  const $ = (id) => document.getElementById(id);
  const keypad = $("keypad");
  const display = $("keypad-display");
  const send = $("keypad-send");
  let asking = null;   // reference_number | verification_code | null
  let prefix = "";
  let digits = "";

  const language = () => (/^zh/i.test(document.documentElement.lang) ? "zh" : "en");
  const t = (key) => TEXT[language()][key];

  function typed() {
    const shape = SHAPES[prefix];
    if (!prefix || digits.length <= shape.dashAfter) { return prefix + digits; }
    return prefix + digits.slice(0, shape.dashAfter) + "-" + digits.slice(shape.dashAfter);
  }

  function render() {
    const text = typed();
    display.textContent = text || t("empty");
    display.classList.toggle("empty", !text);
    send.disabled = !text;
  }

  function label() {
    $("keypad-title").textContent = t(asking || "reference_number");
    $("keypad-display-label").textContent = t("entered");
    keypad.querySelector(".delete .key-label").textContent = t("delete");
    keypad.querySelector(".send .key-label").textContent = t("send");
    $("keypad-delete").setAttribute("aria-label", t("deleteLabel"));
    send.setAttribute("aria-label", t("sendLabel"));
    keypad.querySelector('[data-key="GOV-"]').setAttribute("aria-label", t("gov"));
    keypad.querySelector('[data-key="T-"]').setAttribute("aria-label", t("ticket"));
    render();
  }

  function press(key) {
    if (key === "send") {
      const text = typed();
      if (!text) { return; }
      prefix = ""; digits = "";
      render();
      document.dispatchEvent(new CustomEvent("gov-voice:typed", { detail: { text: text } }));
    } else if (key === "delete") {
      if (digits) { digits = digits.slice(0, -1); } else { prefix = ""; }
    } else if (key in SHAPES && asking === "reference_number") {
      prefix = key;
      digits = digits.slice(0, SHAPES[key].digits);
    } else if (/^[0-9]$/.test(key) && digits.length < SHAPES[prefix].digits) {
      digits += key;
    }
    render();
  }

  function show(next) {
    if (next !== asking) { prefix = ""; digits = ""; }
    asking = next;
    keypad.hidden = !asking;
    // The letters only make sense in a reference; the last four digits are digits.
    keypad.querySelectorAll(".prefix").forEach((key) => { key.hidden = asking !== "reference_number"; });
    label();
  }

  keypad.addEventListener("click", (event) => {
    const key = event.target.closest("[data-key]");
    if (key && !key.disabled) { press(key.dataset.key); }
  });
  // A keyboard: the keys are buttons (Tab, then Enter or Space); digits and Backspace typed
  // anywhere on the page also reach the keypad while it is shown.
  document.addEventListener("keydown", (event) => {
    if (keypad.hidden || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (event.target.closest && event.target.closest("input, textarea, [contenteditable]")) { return; }
    if (/^[0-9]$/.test(event.key)) { event.preventDefault(); press(event.key); }
    else if (event.key === "Backspace") { event.preventDefault(); press("delete"); }
  });
  document.addEventListener("gov-voice:reply", (event) => show(event.detail ? event.detail.keypad : null));
  new MutationObserver(label).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
  label();
})();
