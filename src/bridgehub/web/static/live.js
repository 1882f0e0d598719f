// Live progress: an element with data-live-url is kept up to date from that JSON address
// ({"finished", "fields", "tones", "lists"}) until it says it is finished.
// Inside it: [data-live-field=name] shows fields[name]; [data-live-tone=name] takes the badge
// tone tones[name]; [data-live-hide-empty] hides while its field is empty; [data-live-note]
// says what is happening. Anywhere on the page, [data-live-list=name] lists lists[name].
// With data-live-reload, the page reloads once finished, to show all the end brought.
"use strict";

(() => {
  const INTERVAL_MS = 1000;

  function show(root, answer) {
    for (const element of root.querySelectorAll("[data-live-field]")) {
      const value = answer.fields[element.dataset.liveField];
      if (value === undefined) {
        continue;
      }
      element.textContent = value;
      if (element.hasAttribute("data-live-hide-empty")) {
        element.hidden = value === "";
      }
    }
    for (const element of root.querySelectorAll("[data-live-tone]")) {
      const tone = answer.tones[element.dataset.liveTone];
      if (tone) {
        element.className = `badge badge--${tone}`;
      }
    }
    for (const list of document.querySelectorAll("[data-live-list]")) {
      const items = answer.lists[list.dataset.liveList];
      if (items) {
        list.replaceChildren(...items.map((text) => {
          const item = document.createElement("li");
          item.textContent = text;
          return item;
        }));
      }
    }
  }

  function note(root, text) {
    const element = root.querySelector("[data-live-note]");
    if (element) {
      element.textContent = text;
    }
  }

  async function follow(root) {
    let answer;
    try {
      const response = await fetch(root.dataset.liveUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        redirect: "error",
      });
      if (!response.ok || !response.headers.get("content-type")?.includes("application/json")) {
        throw new Error(`status ${response.status}`);
      }
      answer = await response.json();
    } catch {
      note(root, "Progress stopped updating; reload the page to see where it is.");
      return;
    }
    show(root, answer);
    if (!answer.finished) {
      setTimeout(() => follow(root), INTERVAL_MS);
    } else if (root.hasAttribute("data-live-reload")) {
      window.location.reload();
    } else {
      note(root, "Finished.");
      root.removeAttribute("data-live-url");
    }
  }

  for (const root of document.querySelectorAll("[data-live-url]")) {
    setTimeout(() => follow(root), INTERVAL_MS);
  }
})();
