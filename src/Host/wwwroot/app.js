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
  // Uploads files chosen in the picker or dropped on the zone; the component gets the progress.
  bindUploads(zone, picker, url, component, antiforgeryToken) {
    if (!zone || zone.dataset.bound) return;
    zone.dataset.bound = "1";
    const start = (files) => {
      if (files.length > 0 && !picker.disabled) conclave.uploadFiles(url, files, component, antiforgeryToken);
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
  // XMLHttpRequest, not fetch: only it reports upload progress.
  uploadFiles(url, files, component, antiforgeryToken) {
    const form = new FormData();
    for (const file of files) form.append("files", file, file.name);
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
    xhr.onload = () => report("UploadFinished", xhr.status, xhr.responseText);
    xhr.onerror = () => report("UploadFinished", 0, "");
    report("UploadStarted", files.map((f) => f.name), files.reduce((n, f) => n + f.size, 0));
    xhr.send(form);
  },
};
