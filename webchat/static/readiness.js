// Both pages wait for the assistant before taking input: ask the page server's /readyz
// (webchat/readiness.py) every second until `part` ("chat" or "voice") works, then call `then`.
window.GovWhenReady = (part, then) => {
  "use strict";
  const POLL_MS = 1000;
  const ask = () => {
    fetch("/readyz", { cache: "no-store" })
      .then((response) => response.json())
      .then((readiness) => { if (readiness[part]) { then(); } else { setTimeout(ask, POLL_MS); } })
      .catch(() => setTimeout(ask, POLL_MS));
  };
  ask();
};
