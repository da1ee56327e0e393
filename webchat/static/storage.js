// Remembering small choices (language, conversation id) across page views, for both pages.
// localStorage can be refused (strict third-party iframe rules, private modes): then choices
// live in memory for this page view, and the page still works.
window.GovStorage = (() => {
  "use strict";
  try {
    const storage = window.localStorage;
    storage.setItem("gov-storage-probe", "1");
    storage.removeItem("gov-storage-probe");
    return storage;
  } catch (refused) {
    const memory = new Map();
    return { getItem: (k) => (memory.has(k) ? memory.get(k) : null), setItem: (k, v) => memory.set(k, String(v)) };
  }
})();
