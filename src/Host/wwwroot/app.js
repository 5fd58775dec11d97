// Small DOM helpers the Blazor pages call; no framework, no dependencies.
window.conclave = {
  // Enter sends, Shift+Enter inserts a new line (as in every chat client).
  bindComposer(id) {
    const box = document.getElementById(id);
    if (!box || box.dataset.bound) return;
    box.dataset.bound = "1";
    box.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        box.form?.requestSubmit();
      }
    });
    box.focus();
  },
  // Follows new output unless the reader scrolled up to read something older.
  keepScrolledToEnd(id) {
    const list = document.getElementById(id);
    if (!list) return;
    const page = document.scrollingElement;
    const nearEnd = page.scrollHeight - page.scrollTop - page.clientHeight < 160;
    if (nearEnd || !list.dataset.scrolled) {
      list.dataset.scrolled = "1";
      page.scrollTop = page.scrollHeight;
    }
  },
};
