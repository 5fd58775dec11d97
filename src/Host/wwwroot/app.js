// Small DOM helpers the Blazor pages call, and the shell's behaviour (theme, drawer, menus, copy,
// local times) bound once by event delegation, so it works on static and interactive pages alike.
window.conclave = {
  // Copies text to the clipboard (plain HTTP on a LAN has no Clipboard API: a hidden textarea then),
  // marks the button that asked for 1.5 s and tells screen readers.
  async copy(text, button) {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.append(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    conclave.announce("Copied to the clipboard");
    if (button) {
      button.dataset.copied = "";
      setTimeout(() => delete button.dataset.copied, 1500);
    }
  },
  announce(message) {
    const region = document.getElementById("announcer");
    if (!region) return;
    region.textContent = "";
    setTimeout(() => (region.textContent = message), 50);
  },
  // Scrolls the page to the newest entry.
  jumpToLatest() {
    const page = document.scrollingElement;
    page.scrollTo({ top: page.scrollHeight, behavior: "smooth" });
  },
  // Enter sends, Shift+Enter inserts a new line (as in every chat client).
  bindComposer(id) {
    const box = document.getElementById(id);
    if (!box || box.dataset.bound) return;
    box.dataset.bound = "1";
    box.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        box.form?.requestSubmit();
      } else if (e.key === "Escape") {
        document.getElementById("stop-run")?.click();
      } else if (e.key === "ArrowUp" && box.value === "") {
        const edit = document.getElementById("edit-last");
        if (edit) {
          e.preventDefault();
          edit.click();
        }
      }
    });
    box.focus();
  },
  // Follows new output unless the reader scrolled up to read something older (a new timeline follows);
  // keeps the entry the reader was at in place when earlier ones were added above it.
  following: true,
  keepScrolledToEnd(id) {
    const list = document.getElementById(id);
    if (!list) return;
    if (!list.dataset.scrolled) {
      list.dataset.scrolled = "1";
      conclave.following = true;
      // Entries that grow after they were drawn (late layout, images) keep a following reader at the end.
      new ResizeObserver(() => {
        if (conclave.following && !conclave.earlierAnchor) document.scrollingElement.scrollTop = document.scrollingElement.scrollHeight;
      }).observe(list);
    }
    const page = document.scrollingElement;
    const anchor = conclave.earlierAnchor;
    if (anchor && performance.now() - anchor.at > 5000) conclave.earlierAnchor = null; // the entries never came
    if (anchor && anchor.element.isConnected && anchor.element.previousElementSibling) {
      conclave.earlierAnchor = null;
      page.scrollTop += anchor.element.getBoundingClientRect().top - anchor.top;
    } else if (conclave.following && !conclave.earlierAnchor) {
      page.scrollTop = page.scrollHeight;
    }
    conclave.markBehind();
    conclave.loadEarlierNearTop();
  },
  // The timeline draws its last entries only (Timeline.razor): a reader scrolled up near its top gets
  // the earlier ones, a page at a time, as if they had been there; so does a window they do not fill.
  earlierAnchor: null,
  loadEarlierNearTop() {
    if (conclave.earlierAnchor) return;
    const button = document.querySelector("[data-load-earlier]");
    if (!button) return;
    const page = document.scrollingElement;
    const unfilled = page.scrollHeight <= page.clientHeight;
    if (unfilled || (!conclave.following && button.getBoundingClientRect().bottom > -600)) button.click();
  },
  // Before earlier entries are added: where the first one drawn is, to keep it there (keepScrolledToEnd).
  rememberEarlierAnchor() {
    const first = document.querySelector("#timeline > [data-testid=entry]");
    conclave.earlierAnchor = first ? { element: first, top: first.getBoundingClientRect().top, at: performance.now() } : null;
  },
  // body[data-behind] while the reader is away from the end of the page ("Jump to latest" shows).
  markBehind() {
    const page = document.scrollingElement;
    if (page.scrollHeight - page.scrollTop - page.clientHeight > 160) document.body.dataset.behind = "";
    else delete document.body.dataset.behind;
  },
  // Uploads files chosen in the picker or dropped on the zone; the component gets the progress.
  // knowledgeBox: a checkbox; when given, each upload says whether its documents go into the session's knowledge.
  // oneByOne: the endpoint takes one file per request (a library's documents): they go one after the other.
  bindUploads(zone, picker, url, component, antiforgeryToken, knowledgeBox, oneByOne) {
    if (!zone || zone.dataset.bound) return;
    zone.dataset.bound = "1";
    const start = (files) => {
      if (files.length === 0 || picker.disabled) return;
      if (oneByOne) {
        conclave.uploadEach(url, files, component, antiforgeryToken);
        return;
      }
      const fields = knowledgeBox ? { addToKnowledge: knowledgeBox.checked ? "true" : "false" } : {};
      conclave.uploadFiles(url, files, component, antiforgeryToken, fields);
    };
    picker.addEventListener("change", () => {
      const files = Array.from(picker.files);
      picker.value = "";
      start(files);
    });
    zone.addEventListener("dragover", (e) => {
      e.preventDefault();
      zone.classList.add("dragging");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      zone.classList.remove("dragging");
      start(Array.from(e.dataTransfer?.files ?? []));
    });
  },
  // XMLHttpRequest, not fetch: only it reports upload progress. Resolves when the request ends.
  uploadFiles(url, files, component, antiforgeryToken, fields = {}, part = "files") {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    for (const file of files) form.append(part, file, file.name);
    // The page may have been left mid-upload: its component is gone, the upload still finishes.
    const report = (method, ...args) => component.invokeMethodAsync(method, ...args).catch(() => {});
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("Accept", "application/json");
    // The browser sends the sign-in cookie by itself; this header proves the page sent the request.
    if (antiforgeryToken) xhr.setRequestHeader("RequestVerificationToken", antiforgeryToken);
    let reported = 0;
    xhr.upload.onprogress = (e) => {
      // At most ~10 reports a second reach the server.
      if (!e.lengthComputable || performance.now() - reported < 100) return;
      reported = performance.now();
      report("UploadProgress", e.loaded, e.total);
    };
    const done = new Promise((resolve) => {
      xhr.onload = () => resolve(report("UploadFinished", xhr.status, xhr.responseText));
      xhr.onerror = () => resolve(report("UploadFinished", 0, ""));
    });
    report("UploadStarted", files.map((f) => f.name), files.reduce((n, f) => n + f.size, 0));
    xhr.send(form);
    return done;
  },
  // One request per file, in turn; the component hears of each as of a whole upload.
  async uploadEach(url, files, component, antiforgeryToken) {
    for (const file of files) await conclave.uploadFiles(url, [file], component, antiforgeryToken, {}, "file");
  },
};

// Theme: the cookie keeps the user's pick (App.razor renders it as html[data-theme]); none follows the system.
(() => {
  const root = document.documentElement;
  const systemDark = matchMedia("(prefers-color-scheme: dark)");
  const isDark = () => (root.dataset.theme ?? (systemDark.matches ? "dark" : "light")) === "dark";
  const show = () => {
    for (const toggle of document.querySelectorAll("[data-theme-toggle]")) toggle.setAttribute("aria-pressed", String(isDark()));
  };
  document.addEventListener("click", (e) => {
    if (!e.target.closest("[data-theme-toggle]")) return;
    const theme = isDark() ? "light" : "dark";
    root.dataset.theme = theme;
    document.cookie = `conclave.theme=${theme}; path=/; max-age=31536000; samesite=lax`;
    show();
  });
  systemDark.addEventListener("change", show);
  conclave.showTheme = show;
})();

// The sidebar as a drawer on narrow screens; the user menu; copy buttons of code blocks and messages.
(() => {
  const setDrawer = (open) => {
    if (open) document.body.dataset.drawer = "open";
    else delete document.body.dataset.drawer;
    for (const toggle of document.querySelectorAll("[data-drawer-toggle]")) toggle.setAttribute("aria-expanded", String(open));
    if (open) document.querySelector("#sidebar .sidebar-search, #sidebar button")?.focus();
  };
  const closeMenus = (except) => {
    for (const menu of document.querySelectorAll("details.user-menu[open]")) if (menu !== except) menu.open = false;
  };
  document.addEventListener("click", (e) => {
    const target = e.target;
    if (target.closest("[data-drawer-toggle]")) {
      setDrawer(document.body.dataset.drawer !== "open");
    } else if (target.closest("[data-drawer-close]") || target.closest("#sidebar a, #sidebar .sidebar-new")) {
      setDrawer(false);
    }
    // A click elsewhere closes the user menu; so does following one of its links (the layout stays).
    const menu = target.closest("details.user-menu");
    closeMenus(menu);
    if (menu && target.closest("a.menu-item")) menu.open = false;
    const copyCode = target.closest("[data-copy-code]");
    if (copyCode) conclave.copy(copyCode.closest(".code-block")?.querySelector("pre")?.innerText ?? "", copyCode);
    // A message's Copy carries its text (Markdown as written), so the circuit needs no handler per button.
    const copyText = target.closest("[data-copy-text]");
    if (copyText) conclave.copy(copyText.dataset.copyText, copyText);
    if (target.closest("[data-jump-latest]")) conclave.jumpToLatest();
  });
  // A new search shows its first matches, not the place the whole list was scrolled to.
  document.addEventListener("input", (e) => {
    if (e.target.closest?.(".sidebar-search")) document.querySelector("#sidebar .sidebar-list")?.scrollTo({ top: 0 });
  });
  // Capturing, so it runs before Blazor handles the click and adds the entries.
  document.addEventListener("click", (e) => {
    if (e.target.closest("[data-load-earlier]")) conclave.rememberEarlierAnchor();
  }, { capture: true });
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    const menu = document.querySelector("details.user-menu[open]");
    if (menu) {
      menu.open = false;
      menu.querySelector("summary")?.focus();
    } else if (document.body.dataset.drawer === "open") {
      setDrawer(false);
      document.querySelector("[data-drawer-toggle]")?.focus();
    }
  });
  // Reading older entries during a run: the "jump to latest" button shows (session.css). Only scrolling
  // up stops following: the page growing under a reader at the end does not.
  let lastTop = 0;
  addEventListener("scroll", () => {
    const page = document.scrollingElement;
    if (page.scrollHeight - page.scrollTop - page.clientHeight < 160) conclave.following = true;
    else if (page.scrollTop < lastTop) conclave.following = false;
    lastTop = page.scrollTop;
    conclave.markBehind();
    conclave.loadEarlierNearTop();
  }, { passive: true });
})();

// Times in the browser's language and time zone: "2 minutes ago", the exact time on hover.
(() => {
  const language = navigator.language;
  const relative = new Intl.RelativeTimeFormat(language, { numeric: "auto" });
  const exact = new Intl.DateTimeFormat(language, { dateStyle: "full", timeStyle: "medium" });
  const day = new Intl.DateTimeFormat(language, { dateStyle: "medium" });
  const steps = [[60, "second"], [60, "minute"], [24, "hour"], [7, "day"]];
  const say = (date) => {
    let amount = (date - Date.now()) / 1000;
    for (const [size, unit] of steps) {
      if (Math.abs(amount) < size) return unit === "second" && Math.abs(amount) < 45 ? relative.format(0, "second") : relative.format(Math.round(amount), unit);
      amount /= size;
    }
    return day.format(date);
  };
  const fill = (time) => {
    const date = new Date(time.getAttribute("datetime"));
    if (isNaN(date)) return;
    time.textContent = say(date);
    time.title = exact.format(date);
  };
  const fillAll = (root) => {
    if (root.matches?.("time[data-relative]")) fill(root);
    for (const time of root.querySelectorAll?.("time[data-relative]") ?? []) fill(time);
  };
  const start = () => {
    fillAll(document);
    conclave.showTheme();
    new MutationObserver((changes) => {
      for (const change of changes) {
        if (change.type === "attributes") fill(change.target);
        else for (const node of change.addedNodes) if (node.nodeType === 1) fillAll(node);
      }
      conclave.showTheme();
    }).observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ["datetime"] });
    setInterval(() => fillAll(document), 30_000);
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
