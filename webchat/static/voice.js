// The voice page: one big button to speak, the answer shown in very large text and played aloud.
// Each turn is one POST of the recording (or of a tapped button's text) to the voice channel
// (channels/voice.py), which replies with what it heard, the answer and its audio. The page keeps
// what the next turn needs: the pending question (what to confirm, what is left to say) and the
// last spoken text, for "再说一遍". The conversation id and its key come from the channel's
// reply to the first turn and are kept (localStorage): only with both does the channel go on
// with the conversation or hand out staff replies. Server text only ever reaches the page
// through textContent.
(() => {
  "use strict";

  const TEXT = {
    zh: {
      pageTitle: "语音服务 · 政务服务助手", title: "语音服务", language: "语言",
      hold: "按住说话", release: "松开结束", tapToStop: "再点一下结束", wait: "请稍等",
      hint: "按住大按钮说话，说完松开。也可以点一下开始，再点一下结束。",
      conversation: "对话", youSaid: "您说：", confirm: "请选择", options: "您可以选择",
      yes: "是", no: "不是", more: "继续听", enough: "不用了", yesText: "是", noText: "不是",
      replay: "再听一遍", handoff: "找人工", chatLink: "文字聊天",
      starting: "正在启动，请稍候…", ready: "请按住大按钮说话", listening: "正在听…", thinking: "正在想…", speaking: "正在说…",
      tapReplay: "请点“再听一遍”收听回答", micProblem: "麦克风不可用，请看下面的说明",
      offline: "连接不上服务器。请稍后再试，或拨打 12345 政务服务热线。",
      waiting: "正在等待工作人员回复…",
      switchPayload: "/switch_language{\"language_name\": \"zh\"}"
    },
    en: {
      pageTitle: "Voice service · Government Services Assistant", title: "Voice service",
      language: "Language", hold: "Hold to talk", release: "Let go to finish",
      tapToStop: "Tap again to finish", wait: "Please wait",
      hint: "Hold the big button while you speak, then let go. Or tap once to start and again to finish.",
      conversation: "Conversation", youSaid: "You said: ", confirm: "Please choose",
      options: "You can choose", yes: "Yes", no: "No", more: "Hear more", enough: "No, thanks",
      yesText: "yes", noText: "no",
      replay: "Play again", handoff: "Talk to a person", chatLink: "Text chat",
      starting: "Starting up, one moment…", ready: "Hold the big button and speak", listening: "Listening…", thinking: "Thinking…",
      speaking: "Speaking…", tapReplay: "Tap “Play again” to hear the answer",
      micProblem: "The microphone is unavailable: see below",
      offline: "Can't reach the server. Please try again later, or call the 12345 government service hotline.",
      waiting: "Waiting for a member of staff to reply…",
      switchPayload: "/switch_language{\"language_name\": \"en\"}"
    }
  };
  const KEYS = {
    sender: "gov-voice-sender", senderKey: "gov-voice-sender-key", language: "gov-voice-language",
    chatLanguage: "gov-chat-language"
  };
  const HANDOFF_PAYLOAD = "/human_handoff";
  const TAP_MS = 400;          // a press shorter than this starts tap-to-start / tap-to-stop
  const MAX_RECORDING_MS = 55000;  // the channel refuses recordings over a minute
  const REQUEST_TIMEOUT_MS = 90000;
  const POLL_MS = 5000;        // while waiting for a person: ask for their reply this often
  const MIME_TYPES = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/mp4"];

  const store = window.GovStorage;  // storage.js

  const root = document.documentElement;
  const $ = (id) => document.getElementById(id);
  const talk = $("talk");
  const talkLabel = $("talk-label");
  const statusLine = $("status");
  const player = $("player");
  const voiceUrl = (window.GOV_VOICE_CONFIG || {}).voiceUrl;
  const params = new URLSearchParams(window.location.search);
  const toLanguage = (tag) => (/^zh/i.test(tag) ? "zh" : "en");

  // The citizen's own choice wins; then the text chat's; then ?lang=; then the browser's.
  let language = store.getItem(KEYS.language) || store.getItem(KEYS.chatLanguage) ||
    toLanguage(params.get("lang") || navigator.language || "zh");
  if (!TEXT[language]) { language = "zh"; }
  // Issued by the channel with the first reply; none yet means a new conversation.
  let sender = store.getItem(KEYS.senderKey) ? store.getItem(KEYS.sender) || "" : "";
  let senderKey = sender ? store.getItem(KEYS.senderKey) : "";

  let state = "idle";       // idle | starting | recording | thinking
  let holding = false;      // a pointer or key is down on the talk button
  let pressedAt = 0;
  let tapMode = false;      // recording goes on until the next press
  let maxTimer = 0;
  let statusKey = "ready";
  let booting = true;       // until the server's /readyz says voice turns can be answered
  let waitingForPerson = false;  // a handoff: staff replies are fetched (below)
  let pending = null;       // the question the last reply asked, sent back with the next turn
  let previous = "";        // the last spoken text, for "再说一遍"
  let lastAudio = null;

  // Keep the conversation the channel issued; forget one it no longer accepts (403), so the
  // next turn starts a new one.
  function keepConversation(reply) {
    if (reply.error === "forbidden") {
      sender = ""; senderKey = "";
    } else if (typeof reply.sender === "string" && typeof reply.sender_key === "string" && reply.sender && reply.sender_key) {
      sender = reply.sender; senderKey = reply.sender_key;
    } else {
      return;
    }
    store.setItem(KEYS.sender, sender);
    store.setItem(KEYS.senderKey, senderKey);
  }

  function t(key) { return TEXT[language][key]; }

  function setStatus(key, problem) {
    if (key === "ready" && waitingForPerson) { key = "waiting"; }  // idle, but not alone
    statusKey = key;
    statusLine.textContent = t(key);
    statusLine.classList.toggle("problem", Boolean(problem));
  }

  function updateTalk() {
    const label = state === "thinking" ? "wait"
      : state === "idle" ? "hold" : tapMode ? "tapToStop" : "release";
    talkLabel.textContent = t(label);
    talk.classList.toggle("recording", state === "starting" || state === "recording");
    talk.setAttribute("aria-pressed", String(state === "starting" || state === "recording"));
    talk.setAttribute("aria-disabled", String(state === "thinking"));
  }

  function applyLanguage() {
    root.lang = language === "zh" ? "zh-CN" : "en";
    document.title = t("pageTitle");
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll("[data-i18n-label]").forEach((el) => { el.setAttribute("aria-label", t(el.dataset.i18nLabel)); });
    document.querySelectorAll(".language").forEach((button) => {
      button.setAttribute("aria-pressed", String(button.dataset.language === language));
    });
    $("chat-link").href = "/?lang=" + language;
    answerLabels();
    updateTalk();
    setStatus(statusKey, statusLine.classList.contains("problem"));
  }

  // ---- showing a turn -------------------------------------------------------------------

  function langOf(text, fallback) {
    if (/[\u3400-\u9fff]/.test(text)) { return "zh-CN"; }
    return /[a-z]/i.test(text) ? "en" : fallback;
  }

  function showHeard(text) {
    $("heard").hidden = !text;
    $("heard-text").textContent = text || "";
    $("heard-text").lang = langOf(text || "", root.lang);
  }

  function showAnswer(text, replyLanguage, isError) {
    const answer = $("answer-text");
    answer.textContent = text || "";
    answer.lang = replyLanguage === "en" ? "en" : replyLanguage === "zh" ? "zh-CN" : langOf(text || "", root.lang);
    $("answer").classList.toggle("error", Boolean(isError));
  }

  // The answer to a pending question: 是 / 不是 for "did I hear you right?", 继续听 / 不用了 for
  // "want to hear more?". Either way the channel is sent a plain yes or no.
  function answerLabels() {
    const more = pending && pending.kind === "more";
    $("yes").textContent = t(more ? "more" : "yes");
    $("no").textContent = t(more ? "enough" : "no");
  }

  function showChoices(buttons) {
    $("confirm").hidden = !pending;
    answerLabels();
    const group = $("options");
    group.replaceChildren();
    buttons.forEach((choice) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "choice option";
      button.textContent = choice.title;
      button.lang = langOf(choice.title, root.lang);
      button.addEventListener("click", () => sendText(choice.payload, choice.title, false));
      group.appendChild(button);
    });
    group.hidden = buttons.length === 0;
  }

  function validButtons(buttons) {
    return (Array.isArray(buttons) ? buttons : [])
      .filter((b) => b && typeof b.title === "string" && typeof b.payload === "string" && b.title && b.payload)
      .map((b) => ({ title: b.title, payload: b.payload }));
  }

  function showReply(reply, shownHeard) {
    // The citizen spoke the other language: the assistant answered in it, and the page follows.
    const spoken = reply.switch_language;
    if (typeof spoken === "string" && TEXT[spoken] && spoken !== language) {
      language = spoken;
      store.setItem(KEYS.language, language);
      applyLanguage();
    }
    showHeard(shownHeard || (typeof reply.heard === "string" ? reply.heard : ""));
    showAnswer(typeof reply.text === "string" ? reply.text : "", reply.language, reply.error);
    if (typeof reply.spoken === "string" && reply.spoken) { previous = reply.spoken; }
    // An error (no speech heard, too fast ...) leaves the question asked before still open.
    if (!reply.error) {
      const next = reply.pending;
      pending = next && typeof next === "object" && typeof next.kind === "string" ? next : null;
      showChoices(validButtons(reply.buttons));
      tellKeypad(reply);
    }
    const audio = typeof reply.audio === "string" && reply.audio.startsWith("data:audio/") ? reply.audio : null;
    lastAudio = audio;
    $("replay").disabled = !audio;
    if (audio) { play(audio); } else { setStatus("ready", Boolean(reply.error)); }
    if (!reply.error) { waitForPerson(reply); }
  }

  // ==== number keypad (voice-keypad.js) =====================================================
  // The keypad learns from each reply which number the assistant asks for, and hands back what
  // was typed, which is sent as the text of a turn (never with the pending question: typed is
  // exact, so it needs no read-back).
  function tellKeypad(reply) {
    const asking = reply.keypad === "reference_number" || reply.keypad === "verification_code" ? reply.keypad : null;
    document.dispatchEvent(new CustomEvent("gov-voice:reply", { detail: { keypad: asking } }));
  }
  document.addEventListener("gov-voice:typed", (event) => {
    const typed = event.detail && typeof event.detail.text === "string" ? event.detail.text : "";
    if (typed) { sendText(typed, typed, false); }
  });
  // ==== end of number keypad ================================================================

  // ---- a member of staff has taken over --------------------------------------------------

  // After a handoff the assistant is paused: what staff write is fetched every few seconds
  // (the page has no push channel) and shown and played like an answer.
  let pollTimer = 0;
  let pollAfter = 0;
  function waitForPerson(reply) {
    if (typeof reply.time === "number") { pollAfter = Math.max(pollAfter, reply.time); }
    clearTimeout(pollTimer);
    waitingForPerson = reply.waiting_for_person === true;
    if (statusKey === "ready" || statusKey === "waiting") { setStatus("ready"); }
    if (waitingForPerson) { pollTimer = setTimeout(pollForStaff, POLL_MS); }
  }

  async function pollForStaff() {
    const query = new FormData();  // in the body: the key never appears in a URL or a log
    query.append("sender", sender);
    query.append("sender_key", senderKey);
    query.append("after", String(pollAfter));
    query.append("language", language);
    let news = null;
    try {
      const response = await fetch(voiceUrl.replace(/\/webhook$/, "/updates"), { method: "POST", body: query, credentials: "omit" });
      news = response.ok ? await response.json() : null;
    } catch (unreachable) {
      news = null;
    }
    if (!news || typeof news !== "object") {  // try again later, the same way
      pollTimer = setTimeout(pollForStaff, POLL_MS * 2);
      return;
    }
    if (typeof news.text === "string" && news.text && state === "idle") {
      showAnswer(news.text, langOf(news.text, language), false);
      const audio = typeof news.audio === "string" && news.audio.startsWith("data:audio/") ? news.audio : null;
      lastAudio = audio || lastAudio;
      if (audio) { $("replay").disabled = false; play(audio); }
    } else if (typeof news.text === "string" && news.text) {
      pollTimer = setTimeout(pollForStaff, 1000);  // the citizen is speaking: show it after
      return;
    }
    waitForPerson(news);
  }

  // ---- playing answers -----------------------------------------------------------------

  function play(source) {
    stopPlaying();  // "再听一遍" while it is still speaking starts again from the beginning
    if (player.getAttribute("src") !== source) { player.src = source; }
    player.currentTime = 0;
    const started = player.play();
    if (started && started.catch) {
      // Autoplay refused (no gesture yet on this page): the answer waits for "再听一遍".
      started.catch(() => { if (statusKey !== "listening") { setStatus("tapReplay"); } });
    }
  }

  function stopPlaying() {
    if (!player.paused) { player.pause(); }
  }

  // Phones (iOS Safari above all) let a page start audio by itself only on an element the
  // citizen has started once: the first tap plays a moment of silence on it.
  let unlocked = false;
  function unlockAudio() {
    if (unlocked) { return; }
    unlocked = true;
    if (player.getAttribute("src")) { return; }
    const samples = 400;
    const view = new DataView(new ArrayBuffer(44 + samples * 2));
    const ascii = (offset, text) => [...text].forEach((c, i) => view.setUint8(offset + i, c.charCodeAt(0)));
    ascii(0, "RIFF"); view.setUint32(4, 36 + samples * 2, true); ascii(8, "WAVEfmt ");
    view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
    view.setUint32(24, 8000, true); view.setUint32(28, 16000, true); view.setUint16(32, 2, true);
    view.setUint16(34, 16, true); ascii(36, "data"); view.setUint32(40, samples * 2, true);
    player.src = URL.createObjectURL(new Blob([view.buffer], { type: "audio/wav" }));
    const started = player.play();
    if (started && started.catch) { started.catch(() => { /* paused by the next step, or refused */ }); }
  }
  const isSilence = () => player.currentSrc.startsWith("blob:");

  player.addEventListener("playing", () => { if (!isSilence()) { setStatus("speaking"); } });
  ["ended", "pause", "error"].forEach((type) => player.addEventListener(type, () => {
    if (statusKey === "speaking") { setStatus("ready"); }
  }));

  // ---- sending a turn ------------------------------------------------------------------

  async function sendTurn(fields, shownHeard) {
    state = "thinking";
    updateTalk();
    setStatus("thinking");
    if (shownHeard) { showHeard(shownHeard); }
    const form = new FormData();
    if (sender) { form.append("sender", sender); form.append("sender_key", senderKey); }
    form.append("language", language);
    if (fields.pending) { form.append("pending", JSON.stringify(fields.pending)); }
    if (previous) { form.append("previous", previous); }
    if (fields.audio) { form.append("audio", fields.audio, fields.filename); }
    if (fields.text) { form.append("text", fields.text); }
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), REQUEST_TIMEOUT_MS);
    let reply = null;
    try {
      // Errors (4xx/5xx) carry the same JSON, with a spoken explanation: show and play them.
      const response = await fetch(voiceUrl, { method: "POST", body: form, signal: abort.signal, credentials: "omit" });
      reply = await response.json();
    } catch (unreachable) {
      reply = null;
    } finally {
      clearTimeout(timer);
    }
    state = "idle";
    updateTalk();
    if (reply && typeof reply === "object") {
      keepConversation(reply);
      showReply(reply, shownHeard);
    } else {
      showAnswer(t("offline"), language, true);
      setStatus("ready", true);
    }
  }

  function sendText(text, shownHeard, withPending) {
    if (state === "thinking") { return; }
    unlockAudio();
    if (state !== "idle") { cancelRecording(); }
    stopPlaying();
    sendTurn({ text: text, pending: withPending ? pending : null }, shownHeard);
  }

  // ---- recording -----------------------------------------------------------------------

  function micProblem() {
    $("mic-problem").hidden = false;
    setStatus("micProblem", true);
  }

  // One recording: its recorder, its microphone stream, and whether it was cancelled.
  let recording = null;

  async function startRecording() {
    const mine = { recorder: null, stream: null, discard: false };
    recording = mine;
    state = "starting";
    updateTalk();
    setStatus("listening");
    const fail = () => {
      if (mine.stream) { mine.stream.getTracks().forEach((track) => track.stop()); }
      if (recording === mine) { recording = null; state = "idle"; tapMode = false; updateTalk(); micProblem(); }
    };
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.MediaRecorder) { fail(); return; }
    try {
      mine.stream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true }
      });
    } catch (refused) {
      fail();
      return;
    }
    if (recording !== mine || mine.discard) {  // cancelled while the browser was asking
      mine.stream.getTracks().forEach((track) => track.stop());
      return;
    }
    $("mic-problem").hidden = true;
    const mimeType = MIME_TYPES.find((type) => MediaRecorder.isTypeSupported(type));
    try {
      mine.recorder = new MediaRecorder(mine.stream, mimeType ? { mimeType: mimeType } : undefined);
    } catch (unsupported) {
      fail();
      return;
    }
    const chunks = [];
    mine.recorder.addEventListener("dataavailable", (event) => {
      if (event.data && event.data.size) { chunks.push(event.data); }
    });
    mine.recorder.addEventListener("stop", () => {
      mine.stream.getTracks().forEach((track) => track.stop());  // the microphone is off between turns
      if (mine.discard) { return; }
      const type = mine.recorder.mimeType || (chunks[0] && chunks[0].type) || "audio/webm";
      const extension = /ogg/.test(type) ? "ogg" : /mp4|aac/.test(type) ? "m4a" : "webm";
      sendTurn({ audio: new Blob(chunks, { type: type }), filename: "speech." + extension, pending: pending }, "");
    });
    mine.recorder.start();
    state = "recording";
    updateTalk();
    maxTimer = setTimeout(finishRecording, MAX_RECORDING_MS);
  }

  function finishRecording() {
    clearTimeout(maxTimer);
    if (state === "starting") { tapMode = true; updateTalk(); return; }  // not recording yet
    if (state !== "recording" || !recording) { return; }
    const mine = recording;
    recording = null;
    state = "thinking";
    tapMode = false;
    updateTalk();
    setStatus("thinking");
    mine.recorder.stop();  // its "stop" event sends the recording
  }

  function cancelRecording() {
    clearTimeout(maxTimer);
    const mine = recording;
    recording = null;
    tapMode = false;
    state = "idle";
    updateTalk();
    if (!mine) { return; }
    mine.discard = true;
    if (mine.recorder && mine.recorder.state !== "inactive") { mine.recorder.stop(); }
    else if (mine.stream) { mine.stream.getTracks().forEach((track) => track.stop()); }
  }

  function press() {
    if (state === "thinking") { return; }
    if (state !== "idle") {
      if (tapMode) { finishRecording(); }
      return;
    }
    unlockAudio();
    stopPlaying();  // never record the assistant's own voice
    holding = true;
    tapMode = false;
    pressedAt = Date.now();
    startRecording();
  }

  function release() {
    if (!holding) { return; }
    holding = false;
    if (state !== "starting" && state !== "recording") { return; }
    // A short tap (or a release while the browser still asks for the microphone) means
    // tap-to-start: recording goes on until the next tap.
    if (Date.now() - pressedAt < TAP_MS || state === "starting") {
      tapMode = true;
      updateTalk();
      return;
    }
    finishRecording();
  }

  talk.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) { return; }
    event.preventDefault();  // no text selection, no focus-steal delay on touch
    if (talk.setPointerCapture) { try { talk.setPointerCapture(event.pointerId); } catch (lost) { /* ignore */ } }
    talk.focus();
    press();
  });
  talk.addEventListener("pointerup", release);
  talk.addEventListener("pointercancel", release);
  talk.addEventListener("contextmenu", (event) => event.preventDefault());  // long press on phones
  // Space and Enter: hold to talk, or tap to start and tap to stop, like the pointer.
  talk.addEventListener("keydown", (event) => {
    if (event.key !== " " && event.key !== "Enter") { return; }
    event.preventDefault();
    if (!event.repeat) { press(); }
  });
  talk.addEventListener("keyup", (event) => {
    if (event.key !== " " && event.key !== "Enter") { return; }
    event.preventDefault();
    release();
  });
  // Screen readers activate buttons with a plain click (no pointer or key events): a toggle.
  talk.addEventListener("click", (event) => {
    if (event.detail !== 0 || holding) { return; }
    if (state === "idle") { press(); holding = false; tapMode = true; updateTalk(); } else { press(); }
  });
  window.addEventListener("blur", release);

  // ---- the other buttons ---------------------------------------------------------------

  $("yes").addEventListener("click", () => sendText(t("yesText"), $("yes").textContent, true));
  $("no").addEventListener("click", () => sendText(t("noText"), $("no").textContent, true));
  $("handoff").addEventListener("click", () => sendText(HANDOFF_PAYLOAD, t("handoff"), false));
  $("replay").addEventListener("click", () => { if (lastAudio) { play(lastAudio); } });
  document.querySelectorAll(".language").forEach((button) => {
    button.addEventListener("click", () => {
      const chosen = button.dataset.language;
      if (chosen === language) { return; }
      language = chosen;
      store.setItem(KEYS.language, language);
      applyLanguage();
      // The assistant answers in the chosen language from now on, and says so.
      if (state === "idle" && !booting) { sendText(t("switchPayload"), button.textContent, false); }
    });
  });

  function enableTalking(on) {
    [talk, $("handoff"), $("yes"), $("no")].forEach((button) => { button.disabled = !on; });
  }

  function ready() {
    booting = false;
    enableTalking(true);
    if (statusKey === "starting") { setStatus("ready"); }
  }

  applyLanguage();
  enableTalking(false);
  setStatus("starting");
  window.GovWhenReady("voice", ready);
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.MediaRecorder) {
    micProblem();
  } else if (navigator.permissions && navigator.permissions.query) {
    navigator.permissions.query({ name: "microphone" })
      .then((permission) => { if (permission.state === "denied") { micProblem(); } })
      .catch(() => { /* not every browser can tell */ });
  }
})();
