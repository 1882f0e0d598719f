// Live updates: every element with data-live-item="sync:<id>", "execution:<id>" or
// "executions:24h" is kept up to date through one request for all of them to /ui/live
// ({"items": {key: {"finished", "fields", "tones", "lists"}}}). An item stops being
// followed once finished (or unknown); with data-live-reload the page then reloads, to show
// all the end brought. The requests stop when no item is left, come further apart while
// nothing changes, and wait while the tab is hidden.
// Inside an item: [data-live-field=name] shows fields[name]; [data-live-tone=name] takes the
// badge tone tones[name]; [data-live-hide-empty] hides while its field is empty;
// [data-live-note] says what is happening. Anywhere on the page, [data-live-list=name]
// lists lists[name].
"use strict";

(() => {
  const INTERVAL_MS = 1000;
  const SLOWEST_MS = 10000;
  const LIVE_URL = "/ui/live";
  const STOPPED = "Progress stopped updating; reload the page to see where it is.";

  // Run `task` after `delay`, or once the tab shows again if it is hidden by then.
  function later(task, delay) {
    setTimeout(function whenVisible() {
      if (document.hidden) {
        document.addEventListener("visibilitychange", whenVisible, { once: true });
      } else {
        task();
      }
    }, delay);
  }

  async function ask(url) {
    const response = await fetch(url, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      redirect: "error",
    });
    if (!response.ok || !response.headers.get("content-type")?.includes("application/json")) {
      throw new Error(`status ${response.status}`);
    }
    return response.json();
  }

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
  }

  function showLists(lists) {
    for (const list of document.querySelectorAll("[data-live-list]")) {
      const items = lists[list.dataset.liveList];
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

  async function follow(delay, seen) {
    const elements = [...document.querySelectorAll("[data-live-item]")];
    if (elements.length === 0) {
      return;
    }
    const keys = new Set(elements.map((element) => element.dataset.liveItem));
    let answer;
    try {
      answer = await ask(`${LIVE_URL}?${new URLSearchParams([...keys].map((key) => ["item", key]))}`);
    } catch {
      elements.forEach((element) => note(element, STOPPED));
      return;
    }
    let reload = false;
    for (const element of elements) {
      const item = answer.items[element.dataset.liveItem];
      if (item) {
        show(element, item);
        showLists(item.lists);
      }
      if (!item || item.finished) {
        element.removeAttribute("data-live-item");
        note(element, "Finished.");
        reload ||= Boolean(item) && element.hasAttribute("data-live-reload");
      }
    }
    if (reload) {
      window.location.reload();
      return;
    }
    const now = JSON.stringify(answer);
    const next = now === seen ? Math.min(delay * 1.5, SLOWEST_MS) : INTERVAL_MS;
    later(() => follow(next, now), next);
  }

  later(() => follow(INTERVAL_MS, ""), INTERVAL_MS);
})();
